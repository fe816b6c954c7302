// The stream parameters Koe puts in its <Connect><Stream> TwiML (besides the token), in a module of its own
// so code that only needs the names (the CSV import in its worker thread) does not load the call stack.
import { MAX_STREAM_PARAMETER_CHARS } from '../twilio/twiml.js';

/** Prefix of stream parameters that are template variables given for this call. */
export const VARIABLE_PARAMETER_PREFIX = 'var_';
/**
 * The longest value a call variable may have: it travels as a `<Parameter>`, and Twilio requires each
 * parameter's name and value together to stay under 500 characters.
 */
export function maxVariableChars(name: string): number {
  return MAX_STREAM_PARAMETER_CHARS - 1 - VARIABLE_PARAMETER_PREFIX.length - name.length;
}

/** Stream parameter naming the call record Koe made when it dialed (outbound calls). */
export const CALL_ID_PARAMETER = 'callId';
/** Stream parameter asking for this call to be recorded (`true`), covered by the token like the others. */
export const RECORD_PARAMETER = 'record';

// Every `error` the protocol core answers a client event with (realtime.md §b.8), in one catalogue:
// the live service's codes, messages and params. Schema errors come from `parseClientFrame` instead.

export interface ProtocolError {
  type: 'invalid_request_error' | 'server_error';
  code: string;
  message: string;
  param: string | null;
}

function invalid(code: string, message: string, param: string | null = null): ProtocolError {
  return { type: 'invalid_request_error', code, message, param };
}

/** The service refuses to commit less than this. */
export const MIN_COMMIT_MS = 100;

export const protocolErrors = {
  binaryFrame: () => invalid('invalid_event', 'Binary frames are not supported.'),
  outputAudioBufferClear: () =>
    invalid('invalid_event', "'output_audio_buffer.clear' is only supported for WebRTC and SIP connections.", 'type'),

  sessionTypeMismatch: (update: string, current: string) =>
    invalid('invalid_value', `Passing a ${update} session update event to a ${current} session is not allowed.`, 'session.type'),
  modelChange: () => invalid('invalid_value', 'The session model cannot be changed.', 'session.model'),
  voiceAfterAudio: () => invalid('cannot_update_voice', "Cannot update a conversation's voice if assistant audio is present."),

  invalidAudio: () =>
    invalid('invalid_value', "Invalid 'audio'. Expected base64-encoded audio bytes but got an invalid value.", 'audio'),
  commitTooSmall: (bufferedMs: number) =>
    invalid(
      'input_audio_buffer_commit_empty',
      `Error committing input audio buffer: buffer too small. Expected at least ${MIN_COMMIT_MS}ms of audio, but buffer only has ${bufferedMs.toFixed(2)}ms of audio.`,
    ),

  itemNotFound: (itemId: string) => invalid('item_not_found', `Item with item_id not found: ${itemId}`, 'item_id'),
  itemExists: (itemId: string) => invalid('invalid_value', `Item with id '${itemId}' already exists.`, 'item.id'),
  previousItemNotFound: (itemId: string) =>
    invalid('item_not_found', `Previous item with id '${itemId}' not found.`, 'previous_item_id'),
  truncateItemNotFound: (itemId: string) =>
    invalid('item_truncate_invalid_item_id', `Item with item_id not found: ${itemId}`, 'item_id'),
  truncateNotAudio: () => invalid('unsupported_content_type', 'Only model output audio messages can be truncated'),
  truncatePastEnd: (audioMs: number, audioEndMs: number) =>
    invalid('invalid_value', `Audio content of ${Math.floor(audioMs)}ms is already shorter than ${audioEndMs}ms`, 'audio_end_ms'),

  responsesInTranscriptionSession: () =>
    invalid('invalid_value', 'Responses are not supported in transcription sessions.', 'type'),
  responseAlreadyActive: (responseId: string) =>
    invalid(
      'conversation_already_has_active_response',
      `Conversation already has an active response in progress: ${responseId}. Wait until the response is finished before creating a new one.`,
    ),
  inputItemNotFound: (index: number, itemId: string) =>
    invalid('item_not_found', `Item with id '${itemId}' not found.`, `response.input[${index}].id`),
  cancelNotActive: () => invalid('response_cancel_not_active', 'Cancellation failed: no active response found'),

  /** Something broke on Koe's side (a brain threw); the session stays open. */
  serverError: (): ProtocolError => ({
    type: 'server_error',
    code: 'server_error',
    message: 'The server had an error while processing your request.',
    param: null,
  }),
} as const;

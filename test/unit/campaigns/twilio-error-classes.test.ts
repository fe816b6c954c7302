// How Twilio's REST errors steer outbound dialing (protocol/twilio.md §5.5): what may be retried, what
// fails one number, what must stop a campaign until a person fixes it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyTwilioError } from '../../../src/campaigns/outbound-dialer.js';
import { TwilioRestError } from '../../../src/twilio/index.js';

const error = (status: number | null, code: number | null): TwilioRestError =>
  new TwilioRestError({ message: 'x', status, code, moreInfo: null });

test('429 / 20429 were never processed: retry after backing off', () => {
  assert.equal(classifyTwilioError(error(429, 20429)), 'retry');
  assert.equal(classifyTwilioError(error(429, null)), 'retry');
  assert.equal(classifyTwilioError(error(503, 20429)), 'retry');
});

test('no answer or a 5xx: the call may exist, so it is uncertain, not retried blindly', () => {
  assert.equal(classifyTwilioError(error(null, null)), 'uncertain');
  assert.equal(classifyTwilioError(error(500, 20500)), 'uncertain');
  assert.equal(classifyTwilioError(error(502, null)), 'uncertain');
});

test('numbers Twilio cannot call fail that contact alone', () => {
  for (const code of [21211, 21214, 21215, 21216, 21217]) assert.equal(classifyTwilioError(error(400, code)), 'invalid_number', String(code));
});

test('caller ID and credential refusals stop the campaign', () => {
  for (const code of [21210, 21212, 21213]) assert.equal(classifyTwilioError(error(400, code)), 'caller_id', String(code));
  assert.equal(classifyTwilioError(error(401, 20003)), 'auth');
  assert.equal(classifyTwilioError(error(403, null)), 'auth');
});

test('any other refusal is a refusal of this call', () => {
  assert.equal(classifyTwilioError(error(400, 21205)), 'refused');
  assert.equal(classifyTwilioError(error(400, 32018)), 'refused');
  assert.equal(classifyTwilioError(error(404, 20404)), 'refused');
});

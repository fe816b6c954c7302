import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectStreamTwiml, sayAndHangupTwiml, transferTwiml } from '../../../src/twilio/twiml.js';

const XML = '<?xml version="1.0" encoding="UTF-8"?>';

void test('connectStreamTwiml: <Connect><Stream> with parameters, then a deliberate <Hangup/>', () => {
  const xml = connectStreamTwiml({
    streamUrl: 'wss://koe.example.com/twilio/stream',
    parameters: { token: 'v1.abc.def', callId: '42' },
  });
  assert.equal(
    xml,
    `${XML}<Response><Connect><Stream url="wss://koe.example.com/twilio/stream">` +
      '<Parameter name="token" value="v1.abc.def"/><Parameter name="callId" value="42"/>' +
      '</Stream></Connect><Hangup/></Response>',
  );
});

void test('connectStreamTwiml: statusCallback and escaping', () => {
  const xml = connectStreamTwiml({
    streamUrl: 'wss://koe.example.com/twilio/stream',
    parameters: { note: 'a&b "c" <d>' },
    statusCallbackUrl: 'https://koe.example.com/twilio/stream-status',
  });
  assert.equal(
    xml,
    `${XML}<Response><Connect><Stream url="wss://koe.example.com/twilio/stream" statusCallback="https://koe.example.com/twilio/stream-status">` +
      '<Parameter name="note" value="a&amp;b &quot;c&quot; &lt;d>"/></Stream></Connect><Hangup/></Response>',
  );
});

void test('connectStreamTwiml: ws:// only on loopback, never a query string', () => {
  assert.match(connectStreamTwiml({ streamUrl: 'ws://127.0.0.1:5050/twilio/stream', parameters: {} }), /ws:\/\/127\.0\.0\.1:5050/);
  assert.match(connectStreamTwiml({ streamUrl: 'ws://localhost:5050/twilio/stream', parameters: {} }), /ws:\/\/localhost/);
  assert.match(connectStreamTwiml({ streamUrl: 'ws://[::1]:5050/s', parameters: {} }), /\[::1\]/);
  assert.throws(() => connectStreamTwiml({ streamUrl: 'ws://koe.example.com/twilio/stream', parameters: {} }), /wss:\/\//);
  assert.throws(() => connectStreamTwiml({ streamUrl: 'https://koe.example.com/twilio/stream', parameters: {} }), /wss:\/\//);
  assert.throws(() => connectStreamTwiml({ streamUrl: 'wss://koe.example.com/s?token=x', parameters: {} }), /query string/);
  assert.throws(() => connectStreamTwiml({ streamUrl: 'wss://koe.example.com/s?', parameters: {} }), /query string/);
  assert.throws(() => connectStreamTwiml({ streamUrl: '/twilio/stream', parameters: {} }), /absolute/);
  assert.throws(
    () => connectStreamTwiml({ streamUrl: 'wss://koe.example.com/s', parameters: {}, statusCallbackUrl: 'ftp://x/y' }),
    /statusCallbackUrl/,
  );
});

void test('connectStreamTwiml: each parameter name+value must stay under 500 characters', () => {
  const streamUrl = 'wss://koe.example.com/s';
  assert.doesNotThrow(() => connectStreamTwiml({ streamUrl, parameters: { token: 'x'.repeat(494) } }));
  assert.throws(() => connectStreamTwiml({ streamUrl, parameters: { token: 'x'.repeat(495) } }), /fewer than 500/);
  assert.throws(() => connectStreamTwiml({ streamUrl, parameters: { '': 'x' } }), /empty/);
});

void test('transferTwiml: announcement then <Dial answerOnBridge="true"><Number>', () => {
  assert.equal(
    transferTwiml({
      number: '+15558675310',
      callerId: '+15017122661',
      announce: { text: 'Connecting you to an agent.', language: 'en-US', voice: 'Polly.Joanna' },
      timeoutSec: 30,
      actionUrl: 'https://example.com/dial-done?x=1&y=2',
    }),
    `${XML}<Response><Say language="en-US" voice="Polly.Joanna">Connecting you to an agent.</Say>` +
      '<Dial answerOnBridge="true" callerId="+15017122661" timeout="30" action="https://example.com/dial-done?x=1&amp;y=2">' +
      '<Number>+15558675310</Number></Dial></Response>',
  );
  assert.equal(
    transferTwiml({ number: '+15558675310' }),
    `${XML}<Response><Dial answerOnBridge="true"><Number>+15558675310</Number></Dial></Response>`,
  );
});

void test('transferTwiml: rejects bad numbers, timeouts and URLs', () => {
  assert.throws(() => transferTwiml({ number: '+1 555 867 5310' }), /E\.164/);
  assert.throws(() => transferTwiml({ number: '<Hangup/>' }), /E\.164/);
  assert.throws(() => transferTwiml({ number: '+15558675310', timeoutSec: 0 }), /timeoutSec/);
  assert.throws(() => transferTwiml({ number: '+15558675310', timeoutSec: 1.5 }), /timeoutSec/);
  assert.throws(() => transferTwiml({ number: '+15558675310', actionUrl: 'not a url' }), /actionUrl/);
  assert.throws(() => transferTwiml({ number: '+15558675310', announce: { text: '  ' } }), /empty/);
});

void test('sayAndHangupTwiml', () => {
  assert.equal(
    sayAndHangupTwiml({ text: 'Sorry, we are closed. Goodbye & thanks.' }),
    `${XML}<Response><Say>Sorry, we are closed. Goodbye &amp; thanks.</Say><Hangup/></Response>`,
  );
  assert.equal(
    sayAndHangupTwiml({ text: 'Au revoir', language: 'fr-FR', voice: 'Polly.Lea-Neural' }),
    `${XML}<Response><Say language="fr-FR" voice="Polly.Lea-Neural">Au revoir</Say><Hangup/></Response>`,
  );
});

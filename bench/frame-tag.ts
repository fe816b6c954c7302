// Tagged 20 ms μ-law frames: each 160-byte frame carries its call index and frame number in its first
// bytes, and the rest is a pseudo-random body derived from both. The bridge passes μ-law through
// untouched, so a frame seen anywhere can be traced to the moment it was sent and checked byte for byte.

export const FRAME_BYTES = 160;
export const FRAME_MS = 20;

const MAGIC = 0xa5;
/** magic (1) + call index (uint16) + frame number (uint32). */
const TAG_BYTES = 7;
const BODY_BYTES = FRAME_BYTES - TAG_BYTES;

// A fixed pseudo-random stream (LCG), so a shifted, truncated or re-encoded body cannot match by accident.
const BODY_SOURCE = Buffer.alloc(256 + BODY_BYTES);
{
  let state = 0x2545f491;
  for (let i = 0; i < BODY_SOURCE.length; i += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    BODY_SOURCE[i] = state >>> 24;
  }
}

function bodyOffset(callIndex: number, frameNo: number): number {
  return (Math.imul(frameNo, 7) + Math.imul(callIndex, 13)) & 0xff;
}

/** Writes frame `frameNo` of call `callIndex` into `target` (160 bytes from `offset`). */
export function writeTaggedFrame(target: Buffer, callIndex: number, frameNo: number, offset = 0): void {
  target[offset] = MAGIC;
  target.writeUInt16BE(callIndex, offset + 1);
  target.writeUInt32BE(frameNo, offset + 3);
  const body = bodyOffset(callIndex, frameNo);
  BODY_SOURCE.copy(target, offset + TAG_BYTES, body, body + BODY_BYTES);
}

export type FrameCheck =
  | { ok: true; callIndex: number; frameNo: number }
  /** The tag is readable but the body differs: the bytes were altered on the way. */
  | { ok: false; kind: 'altered'; callIndex: number; frameNo: number }
  /** No tag at all: not one of ours, or mangled beyond recognition. */
  | { ok: false; kind: 'unrecognised' };

/** Reads and checks the frame at `offset` of `data` (which must hold 160 bytes from there). */
export function checkTaggedFrame(data: Buffer, offset: number): FrameCheck {
  if (data[offset] !== MAGIC) return { ok: false, kind: 'unrecognised' };
  const callIndex = data.readUInt16BE(offset + 1);
  const frameNo = data.readUInt32BE(offset + 3);
  const body = bodyOffset(callIndex, frameNo);
  const intact = BODY_SOURCE.compare(data, offset + TAG_BYTES, offset + FRAME_BYTES, body, body + BODY_BYTES) === 0;
  return intact ? { ok: true, callIndex, frameNo } : { ok: false, kind: 'altered', callIndex, frameNo };
}

// Base64 for audio payloads (a 20 ms frame is 160 bytes; server chunks are a few KiB at most).

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  const step = 0x2000;
  for (let i = 0; i < bytes.length; i += step) binary += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(binary);
}

/** Throws on input that is not base64. */
export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

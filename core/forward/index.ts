/** Fluent Forward protocol v1 (see docs/protocol.md): codec, framing, handshake, sessions. */
export {
  decodeEntries,
  decodeEvents,
  encodeAck,
  encodeEntries,
  encodeEntriesInto,
  encodeEntryParts,
  encodeHeartbeat,
  encodePackedForward,
  packedForwardAround,
  packedForwardHeadRoom,
  packr,
  unpackr,
  unpackFrame,
  sanitizeTag,
  ProtocolError,
  HEARTBEAT_TAG,
  HEARTBEAT_OPTION,
  META_KEY,
  MAX_TAG_LENGTH,
  type DecodedEvents,
  type DecodeLimits,
  type EntryPart,
  type PackedForwardOptions,
} from './codec.js';
export { EventTime, wireTimeToNs, writeEventTime } from './event-time.js';
export { FrameDecoder, FrameError, type FrameDecoderOptions } from './frame-decoder.js';
export {
  checkPing,
  checkPong,
  encodeHelo,
  encodePing,
  encodePong,
  newHelo,
  parseHelo,
  passwordDigest,
  sharedKeyDigest,
  type ForwardUser,
  type Helo,
} from './handshake.js';
export { unpackRaw } from './msgpack-raw.js';
export { ReceiverSession, HEARTBEAT_MISSES, type ReceiverSessionOptions } from './receiver.js';
export { SenderSession, type SenderSessionOptions } from './sender.js';

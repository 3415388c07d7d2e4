// Reading the bridge's SDP: which source each m-line carries. Browsers may give
// a remote track a random id, but the SDP's "a=msid:<stream> <track>" line of
// an m-line names the publisher (stream id) and the source (track id), as
// docs/protocol.md says, and the transceiver's mid finds that m-line.

/** Returns a Map of mid → {stream, track} for every m-line of sdp with both a mid and an msid. */
export function msidByMid(sdp) {
  const out = new Map();
  if (typeof sdp !== 'string') return out;
  // Everything before the first "m=" is the session part; each later part is one m-line.
  for (const section of sdp.split(/\r?\n(?=m=)/).slice(1)) {
    let mid = null;
    let msid = null;
    for (const line of section.split(/\r?\n/)) {
      if (line.startsWith('a=mid:')) mid = line.slice(6).trim();
      else if (line.startsWith('a=msid:') && !msid) {
        const [stream, track] = line.slice(7).trim().split(/\s+/);
        if (stream && track) msid = { stream, track };
      }
    }
    if (mid !== null && msid) out.set(mid, msid);
  }
  return out;
}

/**
 * Splits a source id "<participant>-<kind>" given its participant: returns
 * 'audio', 'screen' or, for any other video source, 'video' (the camera).
 */
export function sourceKind(sourceId, participant, trackKind) {
  if (trackKind === 'audio') return 'audio';
  const prefix = `${participant}-`;
  const kind = sourceId?.startsWith(prefix) ? sourceId.slice(prefix.length) : '';
  // "screen-2" and the like: a bridge that numbers a second share of one kind.
  return kind.startsWith('screen') ? 'screen' : 'video';
}

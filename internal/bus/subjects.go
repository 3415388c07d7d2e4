package bus

// Every subject Parley uses is built here. Room, session and bridge ids are
// validated tokens (no '.', '*', '>' or spaces) before they reach these
// functions.

const prefix = "parley."

// RoomControl is where the room's owner receives client messages relayed by
// signal nodes (busmsg.ClientMessage; a join is a request).
func RoomControl(room string) string { return prefix + "room." + room + ".ctl" }

// RoomBridgeEvents is where bridges publish endpoint events (busmsg.EndpointEvent)
// for the room's owner.
func RoomBridgeEvents(room string) string { return prefix + "room." + room + ".bridge" }

// ControlClaim is a queue-group request: one control node takes ownership of
// a room that has none (busmsg.ClaimRequest).
const ControlClaim = prefix + "control.claim"

// ControlQueue is the queue group of control nodes.
const ControlQueue = "control"

// Session carries messages for one client session (busmsg.SessionEvent) to
// the signal node that holds its WebSocket.
func Session(session string) string { return prefix + "session." + session }

// BridgeStatus carries every bridge's heartbeat (busmsg.BridgeStatus).
const BridgeStatus = prefix + "bridge.status"

// BridgeStatusRequest asks every bridge for a heartbeat now; a control node
// sends it when it starts, so that it need not wait a beat to know them.
const BridgeStatusRequest = prefix + "bridge.status.request"

// BridgeEndpoint is where one bridge takes endpoint requests (busmsg.EndpointRequest).
func BridgeEndpoint(bridge string) string { return prefix + "bridge." + bridge + ".endpoint" }

// RoomLeaseBucket is the key-value bucket of room ownership leases.
const RoomLeaseBucket = "parley_rooms"

// ControlRooms asks every control node for the rooms it owns; each answers
// (busmsg.RoomsReply) to the request's reply inbox.
const ControlRooms = prefix + "control.rooms"

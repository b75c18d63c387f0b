package frr

// ownListen reports whether a listen range is the cluster's own (listen
// peering mode).
func (p *planner) ownListen(r *listenRange) bool { return false }

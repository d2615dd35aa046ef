package wsproto

// Extension is one entry of a Sec-WebSocket-Extensions header (RFC 6455
// §9.1): an extension name and its parameters, in the order they were
// written. The handshake package parses offers into this type and formats
// answers from it; an extension such as permessage-deflate (RFC 7692) reads
// its parameters from it.
type Extension struct {
	Name   string
	Params []ExtensionParam
}

// ExtensionParam is one parameter of an extension. Value is empty when the
// parameter was given without a value (for example client_max_window_bits);
// a quoted value is stored unquoted.
type ExtensionParam struct {
	Name  string
	Value string
}

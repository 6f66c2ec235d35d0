/** `envoy.config.core.v3.Address` with a `socket_address` (the only kind this data plane listens on or dials). */
import type { ConfigValue } from "./fields.ts";
import type { SocketAddress } from "./model.ts";

export function readAddress(value: ConfigValue): SocketAddress {
  const address = value.message();
  const socket = address.required("socket_address").message();
  address.finish();
  const host = socket.required("address").nonEmptyString();
  const port = socket.required("port_value").integer(0, 65535);
  const protocol = socket.optional("protocol");
  if (protocol) protocol.oneOf(["TCP"]);
  socket.accept("ipv4_compat");
  socket.finish();
  return { host, port };
}

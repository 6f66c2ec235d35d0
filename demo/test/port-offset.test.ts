import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { parsePortOffset, shiftEnvoyPorts } from "../port-offset.ts";

const envoy = `# listens on port_value: 10000
static_resources:
  listeners:
    - address: { socket_address: { address: 127.0.0.1, port_value: 10000 } }
  clusters:
    - load_assignment:
        endpoints:
          - lb_endpoints:
              - endpoint: { address: { socket_address: { address: 127.0.0.21, port_value: 8080 } } }
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: 9901 } }
`;

test("every port_value moves by the offset; comments and other values stay", () => {
  const shifted = shiftEnvoyPorts(envoy, 100);
  const doc = parse(shifted);
  assert.equal(doc.static_resources.listeners[0].address.socket_address.port_value, 10100);
  assert.equal(
    doc.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address
      .socket_address.port_value,
    8180,
  );
  assert.equal(doc.admin.address.socket_address.port_value, 10001);
  assert.equal(doc.admin.address.socket_address.address, "127.0.0.1");
  assert.match(shifted, /# listens on port_value: 10000/);
  assert.equal(shiftEnvoyPorts(envoy, 0), envoy);
});

test("--port-offset takes a whole number that keeps ports valid, and names a bad one", () => {
  assert.equal(parsePortOffset(undefined), 0);
  assert.equal(parsePortOffset("100"), 100);
  assert.throws(() => parsePortOffset("ten"), /--port-offset must be a whole number .* got "ten"/);
  assert.throws(() => parsePortOffset("1.5"), /got "1.5"/);
  assert.throws(() => parsePortOffset("60000"), /got "60000"/);
});

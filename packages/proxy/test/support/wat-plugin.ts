/**
 * What every hand-written test plugin repeats: a bump allocator exported as `malloc` (its heap from 64 KiB,
 * so data segments below stay put), the ABI version export, and the callbacks Envoy requires that these
 * plugins leave empty (context create, done returning true, log, delete). A test adds its memory, data,
 * imports and the callbacks it is about.
 */
export const WAT_PLUGIN_BASICS = `(global $heap (mut i32) (i32.const 65536))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (local.get $p) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (local.get $p))
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_log") (param i32))
  (func (export "proxy_on_delete") (param i32))`;

/** on_vm_start and on_configure that accept anything. */
export const WAT_ACCEPTING_START = `(func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))`;

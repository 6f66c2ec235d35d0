/**
 * The JS WebAssembly API as Node 20 provides it. TypeScript ships these types only in the DOM and
 * web-worker libs, which this repository does not load (lib ES2023 + @types/node), so the subset the host
 * and its tests use is declared here.
 *
 * A module (imported for its side effect by index.ts) rather than a global .d.ts, so that tsc emits it
 * into dist/ with the rest and the published typings carry it.
 */
declare global {
  namespace WebAssembly {
    type ImportExportKind = "function" | "global" | "memory" | "table" | "tag";
    interface ModuleImportDescriptor {
      module: string;
      name: string;
      kind: ImportExportKind;
    }
    interface ModuleExportDescriptor {
      name: string;
      kind: ImportExportKind;
    }
    type ImportValue = unknown;
    type Imports = Record<string, Record<string, ImportValue>>;
    type Exports = Record<string, unknown>;
    type BufferSource = ArrayBufferView | ArrayBuffer;

    class Module {
      constructor(bytes: BufferSource);
      static imports(module: Module): ModuleImportDescriptor[];
      static exports(module: Module): ModuleExportDescriptor[];
      static customSections(module: Module, name: string): ArrayBuffer[];
    }
    class Instance {
      constructor(module: Module, imports?: Imports);
      readonly exports: Exports;
    }
    interface MemoryDescriptor {
      initial: number;
      maximum?: number;
      shared?: boolean;
    }
    class Memory {
      constructor(descriptor: MemoryDescriptor);
      readonly buffer: ArrayBuffer;
      grow(delta: number): number;
    }
    class CompileError extends Error {}
    class LinkError extends Error {}
    class RuntimeError extends Error {}
    interface WebAssemblyInstantiatedSource {
      module: Module;
      instance: Instance;
    }
    function compile(bytes: BufferSource): Promise<Module>;
    function validate(bytes: BufferSource): boolean;
    function instantiate(bytes: BufferSource, imports?: Imports): Promise<WebAssemblyInstantiatedSource>;
    function instantiate(module: Module, imports?: Imports): Promise<Instance>;
  }
}

export {};

/**
 * Watches files and directories with node:fs.watch (recursive directory watching works on Linux from Node
 * 20), coalescing the burst of events one save makes (editors write, rename and chmod) into one call with
 * the set of paths that changed. Files are watched through their directory, so a file an editor replaces
 * (write to a temporary, rename over) keeps being watched.
 */
import { existsSync, type FSWatcher, statSync, watch } from "node:fs";
import { basename, dirname, join } from "node:path";

/** How long a burst of events may last before the change is reported. */
const SETTLE_MS = 40;

export class FileWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly files = new Map<string, Set<string>>();
  private readonly changed = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly onChange: (paths: string[]) => void) {}

  /** Watches `paths` (files or directories) and stops watching the others watched before. */
  set(paths: Iterable<string>): void {
    const wanted = new Map<string, { recursive: boolean }>();
    this.files.clear();
    for (const path of paths) {
      if (!existsSync(path) || !statSync(path).isDirectory()) {
        const dir = dirname(path);
        if (!wanted.has(dir)) wanted.set(dir, { recursive: false });
        const names = this.files.get(dir) ?? new Set<string>();
        names.add(basename(path));
        this.files.set(dir, names);
      } else wanted.set(path, { recursive: true });
    }
    for (const [dir, watcher] of this.watchers) {
      if (wanted.has(dir)) continue;
      watcher.close();
      this.watchers.delete(dir);
    }
    for (const [dir, { recursive }] of wanted) {
      if (this.watchers.has(dir) || !existsSync(dir)) continue;
      const watcher = watch(dir, { recursive }, (_event, name) => {
        if (name === null) return;
        const names = this.files.get(dir);
        // A directory watched for some of its files only reports those.
        if (!recursive && names && !names.has(String(name))) return;
        this.note(join(dir, String(name)));
      });
      watcher.on("error", () => {
        // A watched directory that goes away (a build cleaning its output) ends that watch only.
        watcher.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, watcher);
    }
  }

  private note(path: string): void {
    this.changed.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const paths = [...this.changed];
      this.changed.clear();
      this.onChange(paths);
    }, SETTLE_MS);
  }

  close(): void {
    clearTimeout(this.timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }
}

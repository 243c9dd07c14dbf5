import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  BrokerUsersError,
  hashPassword,
  isPasswordHash,
  parseBrokerUsers,
  verifyPassword,
} from "../../src/ingest/broker_users.ts";

const utf8 = (s: string) => Buffer.from(s, "utf8");

Deno.test("hashPassword() makes an scrypt hash that verifyPassword() takes for that password only", async () => {
  const hash = await hashPassword("correct horse", { N: 1024 });
  assert.match(hash, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(isPasswordHash(hash));
  assert.equal(await verifyPassword(hash, utf8("correct horse")), true);
  assert.equal(await verifyPassword(hash, utf8("correct horsf")), false);
  assert.equal(await verifyPassword(hash, utf8("")), false);
  assert.notEqual(await hashPassword("correct horse", { N: 1024 }), hash, "a new salt each time");
});

Deno.test("verifyPassword() takes the $7$ hashes of mosquitto_passwd (PBKDF2-SHA512)", async () => {
  // made by: mosquitto_passwd -c -b pw alice secret (Mosquitto 2.0)
  const hash = "$7$101$PhGuFnUhQXuFxGHr$wy2EYnUPY5bdZkOSUlQXJToWtw5TWwMdFTkqFbpXJDppHijL03oVVKvRK" +
    "Nxofj9HZFpLAzVARxNboXbItdNhfw==";
  assert.ok(isPasswordHash(hash));
  assert.equal(await verifyPassword(hash, utf8("secret")), true);
  assert.equal(await verifyPassword(hash, utf8("Secret")), false);
});

Deno.test("verifyPassword() refuses an unknown hash format instead of comparing plain text", async () => {
  assert.equal(await verifyPassword("secret", utf8("secret")), false);
  assert.equal(await verifyPassword("$6$abc$def", utf8("secret")), false);
});

Deno.test("parseBrokerUsers() reads users with their filters and defaults", async () => {
  const hash = await hashPassword("pw", { N: 1024 });
  const users = parseBrokerUsers(
    JSON.stringify({
      users: [
        { username: "kitchen", password: hash, publish: ["sensors/kitchen/#"] },
        { username: "dash", password: hash, publish: [], read: ["sensors/#"] },
      ],
    }),
    "users.json",
  );
  assert.deepEqual(users, [
    { username: "kitchen", password: hash, publish: ["sensors/kitchen/#"], read: null },
    { username: "dash", password: hash, publish: [], read: ["sensors/#"] },
  ]);
});

Deno.test("parseBrokerUsers() refuses plain-text passwords, twice-named users and bad JSON without showing a password", () => {
  const refuse = (text: string, pattern: RegExp) =>
    assert.throws(() => parseBrokerUsers(text, "FORECASTD_BROKER_USERS"), (e: unknown) => {
      assert.ok(e instanceof BrokerUsersError);
      assert.match(e.message, /^Cannot read the broker users: FORECASTD_BROKER_USERS/);
      assert.match(e.message, pattern);
      assert.doesNotMatch(e.message, /hunter2/);
      return true;
    });
  refuse('{"users":[{"username":"a","password":"hunter2"}]}', /users\.0\.password must be a hash/);
  const h = "$7$101$PhGuFnUhQXuFxGHr$wy2E";
  refuse(
    JSON.stringify({ users: [{ username: "a", password: h }, { username: "a", password: h }] }),
    /must name each user once: current value names "a" twice/,
  );
  refuse("{users: hunter2", /must hold JSON/);
});

Deno.test("docs/mqtt.md: the users example parses, its hashes are of the passwords it names, and its hash command makes one", async () => {
  const root = new URL("../../", import.meta.url).pathname;
  const doc = await Deno.readTextFile(`${root}docs/mqtt.md`);
  const example = /```json\n(\{\n {2}"users"[\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(example, "the users example");
  const users = parseBrokerUsers(example, "docs/mqtt.md");
  assert.deepEqual(users.map((u) => u.username), ["kitchen", "dashboard"]);
  assert.equal(await verifyPassword(users[0].password, utf8("kitchen-secret")), true);
  assert.equal(await verifyPassword(users[1].password, utf8("secret")), true);

  const command = /deno eval '(.*)'$/m.exec(doc)?.[1];
  assert.ok(command, "the hash command");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", command],
    cwd: root,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(utf8("s3cret"));
  await writer.close();
  const out = await child.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const hash = new TextDecoder().decode(out.stdout).trim();
  assert.equal(await verifyPassword(hash, utf8("s3cret")), true, hash);
});

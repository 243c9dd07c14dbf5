import assert from "node:assert/strict";
import { MASK, maskUrlPassword } from "../../src/domain/mask_url_password.ts";

Deno.test("maskUrlPassword() hides the password of a broker URL and keeps the rest", () => {
  assert.equal(maskUrlPassword("mqtt://u:secret@h:1883"), "mqtt://u:********@h:1883");
  assert.equal(maskUrlPassword("mqtt://h:1883"), "mqtt://h:1883");
});

Deno.test("maskUrlPassword() keeps a URL without a password and text that is no URL as written", () => {
  assert.equal(maskUrlPassword("https://u@hooks.example/x?a=1"), "https://u@hooks.example/x?a=1");
  for (const text of ["./data", "sensors/{stream}/{value}", "0.0.0.0", ""]) {
    assert.equal(maskUrlPassword(text), text);
  }
  assert.equal(maskUrlPassword("https://u:p@h.example/x"), `https://u:${MASK}@h.example/x`);
});

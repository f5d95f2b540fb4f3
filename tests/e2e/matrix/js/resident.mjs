// A resident with Element's crypto stack: matrix-js-sdk and its Rust crypto (wasm), in Node.
//
// Driven by tests/e2e/matrix/element.py over JSON lines: one command a line on stdin,
// one answer a line on stdout ({"id": …, "ok": true, …} or {"id": …, "ok": false,
// "error": …}). Everything else (the SDK's logging) goes to stderr.
//
// Commands:
//   start   {homeserver, user, password, isolation}  log in, bootstrap cross-signing,
//           set the device isolation mode, sync; answers {user_id, device_id, verified}
//   open_dm {bot}            an encrypted direct chat with the bot, as Element makes it
//   say     {room, text}     an m.text message (encrypted in an encrypted room)
//   next    {timeout}        the next message from the bot (see `report` below)
//   dump    {}               every bot message so far
//   recover {homeserver, user, password, recovery_key}  log in as the BOT's account on a
//           new device, open its secret storage with the recovery key and let the SDK take
//           the cross-signing keys from there (as Element's "Verify with recovery key");
//           answers {key_ok, master_key, status, verified}
//   stop    {}
import readline from "node:readline";

// matrix-js-sdk asks for Node 22 (`engines`); on Node 20 only this one is missing.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new this((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
}

// stdout is the protocol channel: the SDK's console logging goes to stderr.
const out = process.stdout.write.bind(process.stdout);
for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
  console[level] = (...args) => process.stderr.write(`[${level}] ${args.join(" ")}\n`);
}

const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
logger.setLevel(process.env.RESIDENT_LOG_LEVEL || "warn");

let client = null;
let bot = null;
const reports = []; // every bot message, in arrival order
const waiting = []; // resolvers of `next`
let served = 0; // how many reports `next` has handed out
let chain = Promise.resolve(); // keeps reports in timeline order

function wait(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Failures that a room key arriving a little later can still heal; others (trust) cannot.
const LATE_KEY = new Set(["MEGOLM_UNKNOWN_INBOUND_SESSION_ID", "OLM_UNKNOWN_MESSAGE_INDEX"]);

async function settled(event, ms = 10000) {
  // Decrypted, or failing for good, or still without its key after `ms`.
  await client.decryptEventIfNeeded(event);
  const deadline = Date.now() + ms;
  while (LATE_KEY.has(event.decryptionFailureReason) && Date.now() < deadline) await wait(100);
}

async function report(event) {
  const encrypted = event.isEncrypted();
  const began = Date.now();
  if (encrypted) await client.decryptEventIfNeeded(event);
  const firstFailure = event.decryptionFailureReason ?? null;
  if (encrypted) await settled(event);
  const content = event.getContent();
  const replaces = content["m.relates_to"]?.rel_type === "m.replace";
  const entry = {
    event_id: event.getId(),
    type: event.getType(),
    encrypted,
    decrypted: encrypted && !event.isDecryptionFailure(),
    failure: event.decryptionFailureReason ?? null,
    text: (replaces ? content["m.new_content"]?.body : content.body) ?? null,
    edit_of: replaces ? content["m.relates_to"].event_id : null,
    shield: null,
    first_failure: firstFailure,
    settle_ms: Date.now() - began,
  };
  if (entry.decrypted) {
    const info = await client.getCrypto().getEncryptionInfoForEvent(event);
    if (info) {
      entry.shield = {
        colour: cryptoApi.EventShieldColour[info.shieldColour],
        reason: info.shieldReason == null ? null : cryptoApi.EventShieldReason[info.shieldReason],
      };
    }
  }
  return entry;
}

function onTimeline(event, room, toStartOfTimeline, removed, data) {
  if (toStartOfTimeline || !data?.liveEvent || event.getSender() !== bot) return;
  const type = event.getWireType();
  if (type !== "m.room.encrypted" && type !== "m.room.message") return;
  chain = chain.then(async () => {
    const entry = await report(event);
    process.stderr.write(`[resident] ${JSON.stringify(entry)}\n`);
    if (entry.type !== "m.room.message" && entry.decrypted) return; // a reaction, a redaction
    reports.push(entry);
    for (const resolve of waiting.splice(0)) resolve();
  });
}

function onMembership(event, member) {
  if (member.userId === client.getUserId() && member.membership === "invite") {
    client.joinRoom(member.roomId).catch((e) => console.error("join failed", e));
  }
}

async function start({ homeserver, user, password, isolation }) {
  const login = sdk.createClient({ baseUrl: homeserver });
  const creds = await login.loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user },
    password,
    initial_device_display_name: "Element (matrix-js-sdk, Rust crypto)",
  });
  client = sdk.createClient({
    baseUrl: homeserver,
    userId: creds.user_id,
    deviceId: creds.device_id,
    accessToken: creds.access_token,
  });
  await client.initRustCrypto({ useIndexedDB: false });
  const crypto = client.getCrypto();
  if (isolation) crypto.setDeviceIsolationMode(new cryptoApi.OnlySignedDevicesIsolationMode());
  client.on(sdk.RoomEvent.Timeline, onTimeline);
  client.on(sdk.RoomMemberEvent.Membership, onMembership);
  const prepared = new Promise((resolve) =>
    client.on(sdk.ClientEvent.Sync, (state) => state === "PREPARED" && resolve()),
  );
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
  // Cross-signing for the resident's own identity, as Element sets it up on first login.
  await crypto.bootstrapCrossSigning({
    authUploadDeviceSigningKeys: async (makeRequest) => {
      await makeRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: creds.user_id },
        password,
      });
    },
  });
  const status = await crypto.getDeviceVerificationStatus(creds.user_id, creds.device_id);
  return {
    user_id: creds.user_id,
    device_id: creds.device_id,
    cross_signing_ready: await crypto.isCrossSigningReady(),
    verified: Boolean(status?.crossSigningVerified),
    isolation: isolation ? "OnlySignedDevicesIsolationMode" : "AllDevicesIsolationMode",
  };
}

async function recover({ homeserver, user, password, recovery_key: recoveryKey }) {
  const login = sdk.createClient({ baseUrl: homeserver });
  const creds = await login.loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user },
    password,
    initial_device_display_name: "Element (recovery)",
  });
  const privateKey = cryptoApi.decodeRecoveryKey(recoveryKey);
  client = sdk.createClient({
    baseUrl: homeserver,
    userId: creds.user_id,
    deviceId: creds.device_id,
    accessToken: creds.access_token,
    cryptoCallbacks: {
      getSecretStorageKey: async ({ keys }) => [Object.keys(keys)[0], privateKey],
    },
  });
  await client.initRustCrypto({ useIndexedDB: false });
  const crypto = client.getCrypto();
  const prepared = new Promise((resolve) =>
    client.on(sdk.ClientEvent.Sync, (state) => state === "PREPARED" && resolve()),
  );
  await client.startClient({ initialSyncLimit: 1 });
  await prepared;
  const keyId = await client.secretStorage.getDefaultKeyId();
  const [, info] = (await client.secretStorage.getKey(keyId)) ?? [null, null];
  const keyOk = info ? await client.secretStorage.checkKey(privateKey, info) : false;
  await crypto.getUserDeviceInfo([creds.user_id], true); // the public identity, to match
  // No authUploadDeviceSigningKeys: the SDK must take the keys, never make new ones.
  await crypto.bootstrapCrossSigning({});
  // The device's new signature comes back with the next key query.
  let status = null;
  for (let tries = 0; tries < 50 && !status?.crossSigningVerified; tries++) {
    if (tries) await wait(200);
    await crypto.getUserDeviceInfo([creds.user_id], true);
    status = await crypto.getDeviceVerificationStatus(creds.user_id, creds.device_id);
  }
  return {
    key_ok: keyOk,
    master_key: await crypto.getCrossSigningKeyId(),
    status: await crypto.getCrossSigningStatus(),
    verified: Boolean(status?.crossSigningVerified),
  };
}

async function openDm({ bot: botId, timeout = 30 }) {
  bot = botId;
  const { room_id } = await client.createRoom({
    preset: "trusted_private_chat",
    is_direct: true,
    invite: [botId],
    initial_state: [
      {
        type: "m.room.encryption",
        state_key: "",
        content: { algorithm: "m.megolm.v1.aes-sha2" },
      },
    ],
  });
  const deadline = Date.now() + timeout * 1000;
  for (;;) {
    const room = client.getRoom(room_id);
    if (room?.getMember(botId)?.membership === "join" && room.hasEncryptionStateEvent()) break;
    if (Date.now() > deadline) throw new Error(`${botId} did not join ${room_id}`);
    await wait(100);
  }
  return { room: room_id };
}

async function say({ room, text }) {
  const { event_id } = await client.sendMessage(room, { msgtype: "m.text", body: text });
  return { event_id };
}

async function next({ timeout = 30 }) {
  const deadline = Date.now() + timeout * 1000;
  while (served >= reports.length) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no message from the bot within ${timeout} s`);
    await Promise.race([new Promise((resolve) => waiting.push(resolve)), wait(left)]);
  }
  return { message: reports[served++] };
}

const commands = {
  start,
  recover,
  open_dm: openDm,
  say,
  next,
  dump: async () => ({ messages: reports }),
  stop: async () => {
    client?.stopClient();
    setTimeout(() => process.exit(0), 50);
    return {};
  },
};

// One command at a time, in order: an answer comes before the next command starts.
let queue = Promise.resolve();
async function run(line) {
  let request = {};
  try {
    request = JSON.parse(line);
    const command = commands[request.cmd];
    if (!command) throw new Error(`unknown command ${request.cmd}`);
    const answer = await command(request);
    out(JSON.stringify({ id: request.id ?? null, ok: true, ...answer }) + "\n");
  } catch (error) {
    const text = error?.stack || String(error);
    out(JSON.stringify({ id: request.id ?? null, ok: false, error: text }) + "\n");
  }
}
const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim()) queue = queue.then(() => run(line));
});
lines.on("close", () =>
  queue.then(() => {
    client?.stopClient();
    process.exit(0);
  }),
);

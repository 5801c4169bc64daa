// The seed's webhook design, rewritten small for the benchmark: like its Next.js routes it
// verifies, writes the row, and processes inline (asking the provider, updating the row)
// before answering. Same Postgres as the others. Benchmark-only.
"use strict";
const http = require("http");
const crypto = require("crypto");
const { Pool } = require("pg");

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
const fapshiSecret = process.env.FAPSHI_WEBHOOK_SECRET;
const fathomKey = Buffer.from(process.env.FATHOM_WEBHOOK_SECRET.replace(/^whsec_/, ""), "base64");
const fapshiBase = process.env.FAPSHI_BASE_URL;

function fathomSignatureOk(headers, body) {
  const signed = `${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`;
  const expected = crypto.createHmac("sha256", fathomKey).update(signed).digest("base64");
  return (headers["webhook-signature"] || "").split(" ").some((entry) => {
    const given = Buffer.from(entry.split(",")[1] || "");
    const want = Buffer.from(expected);
    return given.length === want.length && crypto.timingSafeEqual(given, want);
  });
}

async function handle(path, headers, body) {
  if (path === "/api/webhooks/fapshi") {
    const given = Buffer.from(headers["x-wh-secret"] || "");
    const want = Buffer.from(fapshiSecret);
    if (given.length !== want.length || !crypto.timingSafeEqual(given, want)) return 401;
    const tx = JSON.parse(body);
    const { rows } = await pool.query(
      "INSERT INTO bench_seed (provider, body) VALUES ('fapshi', $1) RETURNING id", [body]);
    // Inline, before answering: ask Fapshi for the truth, then record it.
    const answer = await fetch(`${fapshiBase}/payment-status/${tx.transId}`,
      { headers: { apiuser: "sandbox-user", apikey: "FAK_TEST_sandbox" } });
    await answer.text();
    await pool.query("UPDATE bench_seed SET processed = true WHERE id = $1", [rows[0].id]);
    return 200;
  }
  if (path === "/api/webhooks/fathom") {
    if (!fathomSignatureOk(headers, body)) return 401;
    const meeting = JSON.parse(body);
    const client = await pool.connect();
    try {  // inline: store the delivery and the recording it carries, then answer
      await client.query("BEGIN");
      await client.query("INSERT INTO bench_seed (provider, body) VALUES ('fathom', $1)", [body]);
      await client.query("INSERT INTO bench_seed_recordings (recording_id, title) VALUES ($1, $2)"
        + " ON CONFLICT DO NOTHING", [meeting.recording_id, meeting.title]);
      await client.query("COMMIT");
    } finally { client.release(); }
    return 200;
  }
  return 404;
}

http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    let status = 500;
    try { status = await handle(req.url, req.headers, Buffer.concat(chunks).toString()); }
    catch (err) { status = 500; }
    res.writeHead(status, { "content-type": "application/json" });
    res.end(status === 200 ? '{"received":true}' : '{"error":true}');
  });
}).listen(Number(process.env.PORT), "127.0.0.1");

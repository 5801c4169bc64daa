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
    try {  // inline, before answering: what the seed's route did with the notes
      await client.query("BEGIN");
      await client.query("INSERT INTO bench_seed (provider, body) VALUES ('fathom', $1)", [body]);
      const match = await client.query(  // match the recording to its session by Meet link
        "SELECT id, tutor_id, student_id FROM prepskul.sessions WHERE meet_link = $1",
        [meeting.meeting_url]);
      await client.query(
        "INSERT INTO bench_seed_recordings (recording_id, title, summary, transcript)"
        + " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [meeting.recording_id, meeting.title, (meeting.default_summary || {}).markdown_formatted,
         JSON.stringify(meeting.transcript || [])]);
      for (const item of meeting.action_items || []) {
        await client.query("INSERT INTO bench_seed_action_items (recording_id, description)"
          + " VALUES ($1, $2)", [meeting.recording_id, item.description]);
      }
      await client.query("UPDATE prepskul.sessions SET status = 'completed' WHERE meet_link = $1",
        [meeting.meeting_url]);
      const people = match.rows.length ? [match.rows[0].tutor_id, match.rows[0].student_id]
        : ["tutor", "student"];
      for (const person of people) {
        await client.query("INSERT INTO bench_seed_notifications (person, kind) VALUES ($1,"
          + " 'notes_ready')", [String(person)]);
      }
      await client.query("COMMIT");
    } catch (err) { await client.query("ROLLBACK"); throw err; }
    finally { client.release(); }
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

// Live updates for PrepSkul pages: one EventSource on /api/events (the signed-in cookie
// authenticates it); the session page updates its status and Meet link in place, and the
// Join button opens shortly before the start. No framework, no build step.
(function () {
  "use strict";
  const page = document.getElementById("session");
  const names = JSON.parse(document.getElementById("status-names").textContent);
  const named = (status) => names[status] || status;
  // The lesson is still ahead in these statuses (the domain's set, rendered by the server).
  const lessonAhead = JSON.parse(document.getElementById("lesson-ahead").textContent);
  const join = document.getElementById("join");

  function refreshJoin() {
    if (!page || !join) return;
    const opens = Date.parse(page.dataset.joinOpens);
    const ready = join.dataset.ready === "yes";
    const open = ready && Date.now() >= opens;
    join.setAttribute("aria-disabled", open ? "false" : "true");
    join.classList.toggle("disabled", !open);
    const hint = document.getElementById("join-hint");
    if (hint) hint.hidden = open;
  }
  if (join) {
    join.addEventListener("click", (event) => {
      if (join.getAttribute("aria-disabled") === "true") event.preventDefault();
    });
    refreshJoin();
    setInterval(refreshJoin, 15000);
  }

  function onChange(event) {
    const data = JSON.parse(event.data);
    document.querySelectorAll(`.badge[data-session="${data.session_id}"]`).forEach((badge) => {
      badge.textContent = named(data.status);
    });
    if (!page || page.dataset.session !== data.session_id) return;
    const status = document.getElementById("status");
    if (data.status && status.dataset.status !== data.status) {
      status.dataset.status = data.status;
      status.className = "badge " + data.status;
      status.textContent = named(data.status);
    }
    if (data.status && data.status !== "awaiting_payment") {
      const pay = document.getElementById("pay");  // paid elsewhere: nothing left to pay
      if (pay) pay.remove();
    }
    if (data.meet_link && join) {
      join.dataset.href = data.meet_link;
      join.dataset.ready = "yes";
      document.getElementById("join-hint").textContent = join.dataset.soon;
      refreshJoin();
    }
    const lesson = document.getElementById("lesson-form");  // the sandbox's button
    if (lesson) lesson.hidden = !(data.meet_link && data.status === "scheduled");
    if (data.status && !lessonAhead.includes(data.status)) {
      const meet = document.getElementById("meet");  // over: no link to offer any more
      if (meet) meet.remove();
      if (lesson) lesson.remove();
    }
    // The notes and a failed payment's forms are rendered by the server: fetch the page.
    if (["recording.ready", "payment.failed", "lesson.outcome", "lesson.settled",
         "lesson.problem_reported"].includes(event.type)) {
      setTimeout(() => window.location.reload(), 300);
    }
  }

  // Resume from the moment the page was rendered: nothing that happened in between is lost.
  const since = document.body.dataset.lastEvent;
  const stream = new EventSource("/api/events" + (since ? `?last_event_id=${since}` : ""));
  ["session.paid", "meet.ready", "meet.failed", "meet.cancelled", "session.approved", "session.declined",
   "session.cancelled", "session.rescheduled", "session.expired", "payment.failed",
   "recording.ready", "homework.updated", "lesson.outcome", "lesson.settled",
   "lesson.problem_reported"].forEach((type) => stream.addEventListener(type, onChange));
})();

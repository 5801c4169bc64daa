// The tutor's weekly hours editor: windows per weekday, dated exceptions and booking
// settings, saved in one PUT /api/me/availability (the server checks the whole schedule
// and refuses it whole, with a sentence we show). No framework, no build step, no inline
// script: the data comes from JSON blocks in the page.
(function () {
  "use strict";
  const editor = document.getElementById("hours-editor");
  if (!editor) return;
  const data = JSON.parse(document.getElementById("hours-data").textContent);
  const words = JSON.parse(document.getElementById("hours-words").textContent);
  const weekly = document.getElementById("weekly");
  const exceptions = document.getElementById("exceptions");
  const result = document.getElementById("hours-result");

  function input(value, name, attrs) {
    const el = document.createElement("input");
    el.value = value || "";
    el.name = name;
    Object.entries(attrs || {}).forEach(([k, v]) => el.setAttribute(k, v));
    return el;
  }
  function clock(value, name) {
    return input(value, name, {placeholder: "09:00", pattern: "\\d{2}:\\d{2}", size: "5",
                               inputmode: "numeric", "aria-label": name});
  }
  function removeButton(row) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link remove";
    b.textContent = words.remove;
    b.addEventListener("click", () => row.remove());
    return b;
  }

  function windowRow(list, start, end) {
    const row = document.createElement("div");
    row.className = "window";
    row.append(clock(start, "start"), " – ", clock(end, "end"), removeButton(row));
    list.append(row);
  }

  words.days.forEach((name, day) => {
    const line = document.createElement("div");
    line.className = "weekday";
    line.dataset.weekday = String(day);
    const label = document.createElement("strong");
    label.textContent = name;
    const list = document.createElement("div");
    list.className = "windows";
    const add = document.createElement("button");
    add.type = "button";
    add.className = "add";
    add.textContent = words.add;
    add.addEventListener("click", () => windowRow(list, "", ""));
    line.append(label, list, add);
    weekly.append(line);
    data.weekly.filter((w) => w.weekday === day).forEach((w) => windowRow(list, w.start, w.end));
  });

  function exceptionRow(x) {
    const row = document.createElement("div");
    row.className = "exception";
    const kind = document.createElement("select");
    kind.name = "kind";
    [["off", words.day_off], ["hours_off", words.hours_off], ["extra", words.extra]]
      .forEach(([value, text]) => kind.append(new Option(text, value)));
    kind.value = x.available ? "extra" : (x.start ? "hours_off" : "off");
    row.append(input(x.date, "date", {type: "date"}), kind, clock(x.start, "start"), " – ",
               clock(x.end, "end"), removeButton(row));
    exceptions.append(row);
  }
  data.exceptions.forEach(exceptionRow);
  document.getElementById("add-exception").addEventListener("click",
    () => exceptionRow({date: "", available: false}));

  const settings = {buffer: "buffer_minutes", notice: "min_notice_minutes", horizon: "horizon_days"};
  Object.entries(settings).forEach(([id, key]) => {
    document.getElementById(id).value = data[key] === null ? "" : data[key];
  });

  function collect() {
    const body = {weekly: [], exceptions: []};
    weekly.querySelectorAll(".weekday").forEach((line) => {
      line.querySelectorAll(".window").forEach((row) => {
        const start = row.querySelector("[name=start]").value.trim();
        const end = row.querySelector("[name=end]").value.trim();
        if (start || end) body.weekly.push({weekday: Number(line.dataset.weekday), start, end});
      });
    });
    exceptions.querySelectorAll(".exception").forEach((row) => {
      const kind = row.querySelector("[name=kind]").value;
      const x = {date: row.querySelector("[name=date]").value, available: kind === "extra"};
      if (kind !== "off") {
        x.start = row.querySelector("[name=start]").value.trim();
        x.end = row.querySelector("[name=end]").value.trim();
      }
      body.exceptions.push(x);
    });
    Object.entries(settings).forEach(([id, key]) => {
      const value = document.getElementById(id).value.trim();
      body[key] = value === "" ? null : Number(value);
    });
    return body;
  }

  document.getElementById("save-hours").addEventListener("click", async () => {
    result.textContent = "…";
    const answer = await fetch("/api/me/availability", {
      method: "PUT", body: JSON.stringify(collect()),
      headers: {"Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf},
    });
    const body = await answer.json();
    result.textContent = answer.ok ? words.saved : body.message;
    result.className = answer.ok ? "saved" : "refused";
  });
})();

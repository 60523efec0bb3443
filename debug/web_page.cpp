#include "web_page.hpp"

namespace interlock::debug::detail {

namespace {

constexpr std::string_view page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Interlock journal</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
  header { display: flex; gap: 1em; align-items: center; padding: .5em 1em; background: #243447; color: #fff; }
  header h1 { font-size: 1.1em; margin: 0; }
  header #journal { font-family: monospace; opacity: .8; flex: 1; }
  header input { width: 28em; padding: .25em; }
  main { display: flex; align-items: flex-start; }
  #streams-pane { flex: 0 1 auto; max-width: 34em; overflow-x: auto; padding: 0 1em; border-right: 1px solid #ddd; }
  #streams a { font: 12px monospace; }
  #detail { flex: 1; padding: 0 1em; min-width: 0; overflow-x: auto; }
  table { border-collapse: collapse; }
  th, td { text-align: left; vertical-align: top; padding: .2em .5em; border-bottom: 1px solid #eee; }
  th { font-weight: 600; color: #555; }
  td.num { text-align: right; }
  pre { margin: 0; font: 12px/1.35 monospace; white-space: pre; }
  td.time { white-space: nowrap; }
  tr.selected { outline: 2px solid #3b82f6; }
  .error { margin: .5em 1em; padding: .5em; background: #fde2e2; color: #8a1f1f; border: 1px solid #f5b5b5; }
  .note { color: #666; font-style: italic; }
  .added { background: #c9f2c9; }
  .changed { background: #ffeaa0; }
  .removed { background: #ffd0d0; }
  .changes div { font: 12px monospace; margin-top: .2em; padding: 0 .2em; white-space: nowrap; }
  a { color: #1d4ed8; text-decoration: none; }
  a:hover { text-decoration: underline; }
</style>
</head>
<body>
<header>
  <h1>Interlock journal</h1>
  <span id="journal"></span>
  <form id="search-form"><input id="search" type="search" placeholder="search by id: stream, command or correlation id"> <button>Search</button></form>
</header>
<div id="error" class="error" hidden></div>
<main>
  <section id="streams-pane">
    <h2>Streams</h2>
    <table id="streams"><thead><tr><th>type</th><th>id</th><th>events</th><th>version</th></tr></thead><tbody></tbody></table>
    <p id="streams-note" class="note"></p>
  </section>
  <section id="detail">
    <div id="results"></div>
    <div id="stream"><p class="note">Choose a stream, or search by id.</p></div>
  </section>
</main>
<script>
"use strict";
// Every value from the API is put into the HTML through esc(): a damaged or
// hostile journal can hold any text in any column (SQLite keeps text in an
// INTEGER column), and must show as text, never run.
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const params = () => new URLSearchParams(location.search);

async function api(path) {
  const res = await fetch(path);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.status + " " + res.statusText);
  return body;
}

function showError(e) { $("error").textContent = e.message; $("error").hidden = false; }

// A link to a view: the current address with `changes` applied (null removes a key).
function href(changes) {
  const p = params();
  for (const [k, v] of Object.entries(changes)) v === null ? p.delete(k) : p.set(k, v);
  return "?" + p.toString();
}
function link(text, changes, cls) {
  return `<a class="nav ${cls || ""}" href="${esc(href(changes))}">${esc(text)}</a>`;
}
const streamLink = (s, position) =>
  link(s.stream || s.type + "/" + s.id, {type: s.type, id: s.id, from: null, position: position || null}, "stream-link");

let streamList = null;  // the last /api/streams answer

// The streams' links keep the rest of the address (a search stays open).
function renderStreams() {
  if (!streamList) return;
  $("streams").tBodies[0].innerHTML = streamList.streams.map((s) =>
    `<tr class="stream-row"><td>${esc(s.type)}</td><td>${link(s.id, {type: s.type, id: s.id, from: null, position: null}, "stream-link")}</td>` +
    `<td class="num">${esc(s.events)}</td><td class="num">${esc(s.version)}</td></tr>`).join("");
  $("streams-note").textContent = streamList.streams.length === 0 ? "The journal holds no stream." :
    streamList.streams_truncated ? `The first ${streamList.streams.length} streams.` : "";
}

async function loadStreams() {
  streamList = await api("/api/streams");
  $("journal").textContent = streamList.journal;
  renderStreams();
}

// The state as indented JSON, each changed member wrapped in a span of its
// change's class, found by its JSON pointer.
function renderJson(value, path, marks, indent) {
  const pad = "  ".repeat(indent + 1);
  const member = (label, v, p) => {
    const text = label + renderJson(v, p, marks, indent + 1);
    const mark = marks.get(p);
    return mark ? `<span class="${mark}" data-path="${esc(p)}">${text}</span>` : text;
  };
  const ptr = (k) => path + "/" + String(k).replace(/~/g, "~0").replace(/\//g, "~1");
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return "[\n" + value.map((v, i) => pad + member("", v, ptr(i))).join(",\n") + "\n" + "  ".repeat(indent) + "]";
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 0) return "{}";
    return "{\n" + keys.map((k) => pad + member(esc(JSON.stringify(k)) + ": ", value[k], ptr(k))).join(",\n") +
      "\n" + "  ".repeat(indent) + "}";
  }
  return esc(JSON.stringify(value));
}

const changeClass = {add: "added", replace: "changed", remove: "removed"};

function renderState(ev) {
  if (ev.state === null) return '<span class="note">(no state)</span>';
  const marks = new Map(ev.changes.filter((c) => c.op !== "remove").map((c) => [c.path, changeClass[c.op]]));
  let json = renderJson(ev.state, "", marks, 0);
  if (marks.has("")) json = `<span class="${marks.get("")}" data-path="">${json}</span>`;
  const changes = ev.changes.length === 0 ? '<div class="note">(the state did not change)</div>' :
    ev.changes.map((c) => `<div class="${changeClass[c.op] || ""}">${esc(c.text)}</div>`).join("");
  return `<pre class="state">${json}</pre><div class="changes">${changes}</div>`;
}

async function showStream(type, id, from, position) {
  const q = new URLSearchParams({type, id});
  if (from) q.set("from", from);
  const body = await api("/api/stream?" + q.toString());
  let html = `<h2>${esc(body.stream)} <small>version ${esc(body.version)}</small></h2>`;
  if (body.state_view) html += `<p class="note state-view">${esc(body.state_view)}</p>`;
  if (body.from > 1) html += `<p>${link("events from version 1", {from: null, position: null})}</p>`;
  html += '<table id="events"><thead><tr><th>position</th><th>time</th><th>version</th><th>type</th>' +
          "<th>payload</th><th>state after it</th></tr></thead><tbody>";
  for (const ev of body.events) {
    const selected = String(ev.position) === position ? " selected" : "";
    const note = ev.payload_note ? `<div class="note payload-note">${esc(ev.payload_note)}</div>` : "";
    html += `<tr id="event-${esc(ev.position)}" class="event${selected}"><td class="num">${esc(ev.position)}</td>` +
            `<td class="time">${esc(ev.recorded_at)}</td><td class="num">${esc(ev.version)}</td><td>${esc(ev.type)}</td>` +
            `<td><pre class="payload">${esc(JSON.stringify(ev.payload, null, 2))}</pre>${note}</td><td>${renderState(ev)}</td></tr>`;
  }
  html += "</tbody></table>";
  if (body.next_from) html += `<p>${link("events from version " + body.next_from, {from: body.next_from, position: null})}</p>`;
  $("stream").innerHTML = html;
  const row = position && document.getElementById("event-" + position);
  if (row) row.scrollIntoView({block: "center", inline: "nearest"});
}

async function showSearch(q) {
  const body = await api("/api/search?" + new URLSearchParams({q}).toString());
  let html = `<h2>Search: ${esc(q)}</h2><h3>Streams whose id starts with it</h3>`;
  html += body.streams.length === 0 ? '<p class="note">none</p>' :
    '<ul id="found-streams">' + body.streams.map((s) => `<li>${streamLink(s)} <span class="note">${esc(s.events)} events</span></li>`).join("") + "</ul>";
  html += "<h3>Events whose command, correlation or causation id it is</h3>";
  html += body.events.length === 0 ? '<p class="note">none</p>' :
    '<table id="found-events"><thead><tr><th>position</th><th>stream</th><th>version</th><th>type</th><th>matched</th></tr></thead><tbody>' +
    body.events.map((e) => `<tr><td class="num">${esc(e.position)}</td><td>${streamLink(e, String(e.position))}</td>` +
      `<td class="num">${esc(e.version)}</td><td>${esc(e.event_type)}</td><td>${esc(e.matched.join(", "))}</td></tr>`).join("") +
    "</tbody></table>";
  $("results").innerHTML = html;
}

// Shows what the address names.
async function route() {
  const p = params();
  $("error").hidden = true;
  renderStreams();
  $("search").value = p.get("q") || "";
  const jobs = [];
  if (p.get("q")) jobs.push(showSearch(p.get("q")).catch(showError));
  else $("results").innerHTML = "";
  if (p.get("type") && p.get("id"))
    jobs.push(showStream(p.get("type"), p.get("id"), p.get("from"), p.get("position")).catch(showError));
  await Promise.all(jobs);
}

function go(url) { history.pushState(null, "", url); route(); }

document.addEventListener("click", (e) => {
  const a = e.target.closest("a.nav");
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey) return;
  e.preventDefault();
  go(a.getAttribute("href"));
});
$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const q = $("search").value.trim();
  go(href({q: q || null}));
});
window.addEventListener("popstate", route);
Promise.all([loadStreams().catch(showError), route()]).then(() => { document.body.dataset.loaded = "yes"; });
</script>
</body>
</html>
)html";

}  // namespace

std::string_view web_page() { return page; }

}  // namespace interlock::debug::detail

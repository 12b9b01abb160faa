/*!
 * <herald-inbox>: Herald's embeddable notification bell.
 *
 * One plain script, no framework, no build step; served by Herald at GET /v1/inbox/widget.js.
 *
 *   <script src="https://herald.example.com/v1/inbox/widget.js" defer></script>
 *   <herald-inbox token="<recipient token>"></herald-inbox>
 *
 * Attributes: api-base (Herald's URL; defaults to where this script came from), token, locale
 * (relative times and numbers; defaults to the browser's), theme (light | dark | auto, the
 * default, following prefers-color-scheme), default-tab (unread | all | archived), align
 * (right, the default: the dropdown opens leftwards from the bell; or left), service-worker
 * (browser notifications: the URL of a one-line service worker on the page's own origin,
 * `importScripts("<Herald>/v1/inbox/herald-sw.js")`; not needed on Herald's own origin).
 * Properties: token, tokenProvider (async () => a new token, called when the old one expires),
 * strings (labels, for translation), categories and categoryLabels (the preferences view).
 * Methods: enablePush() (what the preferences' "Enable browser notifications" does: registers
 * the service worker, asks permission, subscribes, registers the browser as a push device).
 * Events (bubbling, composed): herald-unread-change, herald-message-received,
 * herald-message-click (cancelable: the host routes the link itself), herald-token-expired,
 * herald-open-change, herald-connection-change, herald-error, herald-push (a push the service
 * worker received, while a page of this origin is open).
 *
 * Safety: message text only ever becomes text nodes (never HTML), and only http(s) action links
 * are followed. The live stream is read with fetch() so it can send the Authorization header
 * (EventSource cannot); it resumes with Last-Event-ID after a drop or a new token.
 */
(() => {
  "use strict";
  if (typeof window === "undefined" || !window.customElements) return;
  if (customElements.get("herald-inbox")) return;

  const VERSION = "1.0.0";
  const PAGE_SIZE = 20;
  const TOKEN_WAIT_MS = 30000;
  const MAX_RECONNECT_MS = 30000;
  const TABS = ["unread", "all", "archived"];
  const TAB_QUERY = { unread: { read: "false" }, all: {}, archived: { archived: "true" } };
  const PRIORITIES = ["low", "normal", "high", "urgent"];
  // The channels the preferences view shows unless the host sets element.channels; a channel
  // the recipient turned off shows too, so it can be turned back on. A channel the document
  // does not name is on.
  const DEFAULT_CHANNELS = ["in_app", "email", "sms"];
  // What each change of a messages.updated event does to a message.
  const CHANGES = {
    read: (m, at) => ({ read_at: m.read_at || at, seen_at: m.seen_at || at }),
    unread: () => ({ read_at: null }),
    seen: (m, at) => ({ seen_at: m.seen_at || at }),
    archived: (m, at) => ({ archived_at: m.archived_at || at }),
    unarchived: () => ({ archived_at: null }),
    snoozed: (m, at, until) => ({ snoozed_until: until || "9999-12-31T00:00:00Z" }),
    unsnoozed: () => ({ snoozed_until: null }),
  };
  // Changes that can bring into a tab a message it does not hold yet: the tab is fetched again.
  const BRINGS_IN = {
    unread: ["unread", "unarchived", "unsnoozed"],
    all: ["unarchived", "unsnoozed"],
    archived: ["archived"],
  };

  const STRINGS = {
    bell: "Notifications",
    bellUnread: "Notifications, {n} unread",
    bellNoUnread: "Notifications, none unread",
    heading: "Notifications",
    tabs: "Show",
    tab_unread: "Unread",
    tab_all: "All",
    tab_archived: "Archived",
    markAllRead: "Mark all as read",
    markRead: "Mark as read",
    markUnread: "Mark as unread",
    archive: "Archive",
    unarchive: "Move back to inbox",
    snooze: "Snooze",
    snoozeMenu: "Snooze until",
    snooze_hour: "In 1 hour",
    snooze_tomorrow: "Tomorrow morning",
    snooze_next_week: "Next week",
    snoozed: "Snoozed until {when}",
    preferences: "Notification preferences",
    back: "Back to notifications",
    loadMore: "Load more",
    loading: "Loading…",
    empty_unread: "You're all caught up.",
    empty_all: "No notifications yet.",
    empty_archived: "Nothing archived.",
    unread: "Unread",
    priority_low: "Low",
    priority_high: "High",
    priority_urgent: "Urgent",
    newMessage: "New notification: {title}",
    channels: "Channels",
    channelsHint: "Turn a channel off to get nothing through it.",
    categories: "By category",
    category: "Category",
    channel_in_app: "In-app",
    channel_email: "Email",
    channel_sms: "SMS",
    channel_push: "Push",
    categorySwitch: "{channel} for {category}",
    dnd: "Do not disturb",
    dndEnabled: "Hold notifications during these hours",
    dndStart: "From",
    dndEnd: "Until",
    saving: "Saving…",
    saved: "Saved.",
    failed: "That did not work: {detail}",
    loadFailed: "Could not load notifications: {detail}",
    reconnecting: "Reconnecting…",
    paused: "Live updates are paused while this inbox is open in many windows.",
    signedOut: "Your session has ended. Reload the page to see new notifications.",
    push: "Browser notifications",
    pushHint: "Get notifications on this device, even when this page is closed.",
    pushEnable: "Enable browser notifications",
    pushEnabling: "Enabling…",
    pushOn: "Browser notifications are on for this browser.",
    pushBlocked: "Notifications are blocked for this site: allow them in the browser's settings.",
  };

  // ---------------------------------------------------------------- styles

  const STYLE = `
:host { display: inline-block; position: relative; vertical-align: middle;
  font-family: var(--herald-font-family, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-size: var(--herald-font-size, 14px); line-height: 1.4; }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.root {
  --bg: var(--herald-bg, #ffffff); --fg: var(--herald-fg, #1f2328);
  --muted: var(--herald-muted, #57606a); --border: var(--herald-border, #d0d7de);
  --accent: var(--herald-accent, #0969da); --accent-fg: var(--herald-accent-fg, #ffffff);
  --hover: var(--herald-hover, #f3f4f6); --unread-bg: var(--herald-unread-bg, #eef5ff);
  --badge-bg: var(--herald-badge-bg, #cf222e); --badge-fg: var(--herald-badge-fg, #ffffff);
  --urgent: var(--herald-urgent, #cf222e); --high: var(--herald-high, #a04100);
  --low: var(--herald-low, #6e7781); --shadow: 0 8px 24px rgba(31, 35, 40, 0.18);
  color-scheme: light; position: relative; display: inline-block;
}
.root[data-theme="dark"] {
  --bg: var(--herald-dark-bg, #161b22); --fg: var(--herald-dark-fg, #e6edf3);
  --muted: var(--herald-dark-muted, #9da7b3); --border: var(--herald-dark-border, #3d444d);
  --accent: var(--herald-dark-accent, #4493f8); --accent-fg: var(--herald-dark-accent-fg, #0d1117);
  --hover: var(--herald-dark-hover, #262c36); --unread-bg: var(--herald-dark-unread-bg, #1c2a3d);
  --badge-bg: var(--herald-dark-badge-bg, #cf222e); --badge-fg: var(--herald-dark-badge-fg, #ffffff);
  --urgent: var(--herald-dark-urgent, #ff7b72); --high: var(--herald-dark-high, #f0883e);
  --low: var(--herald-dark-low, #8b949e); --shadow: 0 8px 24px rgba(1, 4, 9, 0.6);
  color-scheme: dark;
}
button { font: inherit; color: inherit; cursor: pointer; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
svg { width: 20px; height: 20px; fill: currentColor; flex: none; }
.bell { position: relative; display: inline-flex; align-items: center; justify-content: center;
  width: 40px; height: 40px; padding: 0; border: 0; border-radius: 50%; background: transparent;
  color: var(--herald-bell-color, currentColor); }
.bell svg { width: 24px; height: 24px; }
.bell:hover { background: var(--herald-bell-hover, rgba(127, 127, 127, 0.16)); }
.badge { position: absolute; top: 2px; right: 0; min-width: 18px; height: 18px; padding: 0 5px;
  border-radius: 9px; background: var(--badge-bg); color: var(--badge-fg); font-size: 11px;
  font-weight: 700; line-height: 18px; text-align: center; }
.panel { position: absolute; top: calc(100% + 8px); right: 0; z-index: var(--herald-z-index, 1000);
  width: var(--herald-panel-width, 380px); max-width: calc(100vw - 16px);
  max-height: min(var(--herald-panel-height, 560px), calc(100vh - 80px));
  display: flex; flex-direction: column; background: var(--bg); color: var(--fg);
  border: 1px solid var(--border); border-radius: var(--herald-radius, 12px);
  box-shadow: var(--shadow); overflow: hidden; text-align: left; }
.root[data-align="left"] .panel { right: auto; left: 0; }
.list-view, .prefs-view { display: contents; }
@media (max-width: 480px) {
  .panel { position: fixed; top: var(--herald-phone-top, 56px); left: 8px; right: 8px; width: auto;
    max-width: none; max-height: calc(100vh - var(--herald-phone-top, 56px) - 8px); }
}
.header { display: flex; align-items: center; gap: 8px; padding: 12px 12px 8px 16px; }
.header h2, .prefs-header h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 600; }
.text-button { border: 0; background: transparent; color: var(--accent); padding: 6px 8px;
  border-radius: 6px; font-size: 13px; font-weight: 600; }
.text-button:hover { background: var(--hover); }
.text-button:disabled { color: var(--muted); cursor: default; background: transparent; }
.icon-button { display: inline-flex; align-items: center; justify-content: center; width: 32px;
  height: 32px; padding: 0; border: 0; border-radius: 6px; background: transparent; color: var(--muted); }
.icon-button:hover { background: var(--hover); color: var(--fg); }
.icon-button svg { width: 18px; height: 18px; }
.tabs { display: flex; gap: 4px; padding: 0 12px; border-bottom: 1px solid var(--border); }
.tab { border: 0; background: transparent; padding: 8px 10px; margin-bottom: -1px;
  border-bottom: 2px solid transparent; color: var(--muted); font-weight: 600; font-size: 13px; }
.tab[aria-selected="true"] { color: var(--fg); border-bottom-color: var(--accent); }
.tab .count { display: inline-block; min-width: 18px; margin-left: 4px; padding: 0 5px;
  border-radius: 9px; background: var(--hover); color: var(--fg); font-size: 11px; line-height: 18px; }
.tabpanel { flex: 1; min-height: 120px; overflow-y: auto; overscroll-behavior: contain; }
.feed { margin: 0; padding: 0; }
.item { position: relative; display: grid; grid-template-columns: 10px minmax(0, 1fr) auto; gap: 8px;
  padding: 12px 8px 12px 12px; border-bottom: 1px solid var(--border);
  border-left: 3px solid transparent; }
.item:focus-visible { outline-offset: -2px; }
.item.unread { background: var(--unread-bg); }
.item.priority-urgent { border-left-color: var(--urgent); }
.item.priority-high { border-left-color: var(--high); }
.marker { width: 8px; height: 8px; margin-top: 6px; border-radius: 50%; }
.item.unread .marker { background: var(--accent); }
.content { min-width: 0; }
.title { margin: 0; font-weight: 500; overflow-wrap: anywhere; }
.item.unread .title { font-weight: 700; }
.item.priority-low .title { font-weight: 400; }
.title a { color: inherit; text-decoration: none; }
.title a:hover { text-decoration: underline; }
.title a:focus-visible { outline-offset: 1px; }
.body { margin: 2px 0 0; overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 3;
  -webkit-box-orient: vertical; overflow: hidden; }
.item.priority-low .body { color: var(--muted); }
.meta { display: flex; align-items: center; flex-wrap: wrap; gap: 6px; margin: 4px 0 0;
  color: var(--muted); font-size: 12px; }
.chip { padding: 0 6px; border-radius: 4px; font-size: 11px; font-weight: 700; line-height: 18px;
  border: 1px solid currentColor; }
.chip.urgent { color: var(--urgent); }
.chip.high { color: var(--high); }
.chip.low { color: var(--low); font-weight: 600; }
.actions { display: flex; align-items: flex-start; gap: 0; }
.empty { margin: 0; padding: 32px 16px; text-align: center; color: var(--muted); }
.more { display: flex; justify-content: center; padding: 8px; }
.status { margin: 0; padding: 0 16px; color: var(--muted); font-size: 12px; }
.status:not(:empty) { padding: 8px 16px; border-top: 1px solid var(--border); }
.status.error { color: var(--urgent); }
.menu { position: absolute; right: 12px; z-index: 2; min-width: 220px; padding: 4px;
  background: var(--bg); color: var(--fg); border: 1px solid var(--border); border-radius: 8px;
  box-shadow: var(--shadow); }
.menu button { display: flex; width: 100%; justify-content: space-between; gap: 12px; padding: 8px 10px;
  border: 0; border-radius: 6px; background: transparent; text-align: left; }
.menu button:hover, .menu button:focus { background: var(--hover); }
.menu .when { color: var(--muted); font-size: 12px; }
.prefs-header { display: flex; align-items: center; gap: 4px; padding: 8px 12px 8px 8px;
  border-bottom: 1px solid var(--border); }
.prefs { flex: 1; overflow-y: auto; padding: 4px 16px 16px; }
fieldset { margin: 12px 0 0; padding: 0; border: 0; min-width: 0; }
legend { padding: 0; margin-bottom: 6px; font-weight: 700; }
.hint { margin: 0 0 6px; color: var(--muted); font-size: 12px; }
.switches { display: flex; flex-wrap: wrap; gap: 4px 16px; }
.check { display: inline-flex; align-items: center; gap: 6px; min-height: 28px; }
.check input { width: 16px; height: 16px; margin: 0; accent-color: var(--accent); }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { padding: 4px 2px; text-align: center; border-bottom: 1px solid var(--border); }
th:first-child, td:first-child { text-align: left; overflow-wrap: anywhere; }
thead th { color: var(--muted); font-weight: 600; font-size: 12px; }
td input { width: 16px; height: 16px; accent-color: var(--accent); }
.times { display: flex; gap: 12px; margin-top: 6px; flex-wrap: wrap; }
.times label { display: inline-flex; align-items: center; gap: 6px; }
input[type="time"] { font: inherit; color: inherit; background: var(--bg);
  border: 1px solid var(--border); border-radius: 6px; padding: 2px 6px; }
`;

  // ---------------------------------------------------------------- icons

  const ICONS = {
    bell: "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6v-5a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z",
    read: "M9 16.2 4.8 12l-1.4 1.4L9 19 21 7l-1.4-1.4L9 16.2Z",
    unread: "M20 4H4a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2Zm0 4-8 5-8-5V6l8 5 8-5v2Z",
    archive: "M20.54 5.23 19.15 3.55A1.45 1.45 0 0 0 18 3H6c-.47 0-.88.21-1.16.55L3.46 5.23A2 2 0 0 0 3 6.5V19a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6.5c0-.48-.17-.93-.46-1.27ZM12 17.5 6.5 12H10v-2h4v2h3.5L12 17.5ZM5.12 5l.81-1h12l.94 1H5.12Z",
    unarchive: "M20.54 5.23 19.15 3.55A1.45 1.45 0 0 0 18 3H6c-.47 0-.88.21-1.16.55L3.46 5.23A2 2 0 0 0 3 6.5V19a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6.5c0-.48-.17-.93-.46-1.27ZM12 9.5l5.5 5.5H14v2h-4v-2H6.5L12 9.5ZM5.12 5l.81-1h12l.94 1H5.12Z",
    snooze: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20Zm0 18a8 8 0 1 1 0-16 8 8 0 0 1 0 16Zm.5-13H11v6l5.25 3.15.75-1.23-4.5-2.67V7Z",
    preferences: "M3 17v2h6v-2H3ZM3 5v2h10V5H3Zm10 16v-2h8v-2h-8v-2h-2v6h2ZM7 9v2H3v2h4v2h2V9H7Zm14 4v-2H11v2h10Zm-6-4h2V7h4V5h-4V3h-2v6Z",
    back: "M20 11H7.83l5.59-5.59L12 4l-8 8 8 8 1.41-1.41L7.83 13H20v-2Z",
  };

  function icon(name) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  // ---------------------------------------------------------------- helpers

  const DOM_PROPERTIES = new Set(["checked", "disabled", "hidden", "value"]);

  /** An element. Children that are strings become text nodes: message data is never parsed
   * as HTML anywhere in this file. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") el.className = value;
      else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else if (DOM_PROPERTIES.has(name)) el[name] = value;
      else el.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) el.append(child);
    }
    return el;
  }

  /** The link to follow, absolute, when it is http(s); anything else (javascript:, data:, a
   * malformed URL) is never followed. Relative links resolve against the host page. */
  function safeHref(raw) {
    if (typeof raw !== "string" || !raw.trim()) return null;
    try {
      const url = new URL(raw, document.baseURI);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  // ---------------------------------------------------------------- browser notifications

  const PUSH_SUPPORTED =
    "serviceWorker" in navigator && typeof PushManager !== "undefined" && typeof Notification !== "undefined";

  /** The VAPID public key (base64url) as the Push API takes it. */
  function keyBytes(base64url) {
    const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  }

  function sameBytes(buffer, bytes) {
    const given = buffer ? new Uint8Array(buffer) : new Uint8Array(0);
    return given.length === bytes.length && given.every((b, i) => b === bytes[i]);
  }

  /** Resolves once the registration has an active worker (pushManager.subscribe needs one).
   * Not navigator.serviceWorker.ready: that waits for a worker whose scope holds this page. */
  function activated(registration) {
    if (registration.active) return Promise.resolve(registration);
    const worker = registration.installing || registration.waiting;
    return new Promise((resolve, reject) => {
      worker.addEventListener("statechange", () => {
        if (worker.state === "activated") resolve(registration);
        else if (worker.state === "redundant") reject(new Error("the service worker did not install"));
      });
    });
  }

  function deviceLabel() {
    const platform = (navigator.userAgentData && navigator.userAgentData.platform) || navigator.platform;
    return (platform ? `Browser on ${platform}` : "Browser").slice(0, 100);
  }

  const UNITS = [
    ["year", 365 * 86400],
    ["month", 30 * 86400],
    ["week", 7 * 86400],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];

  function relativeTime(iso, locale, now) {
    const seconds = (Date.parse(iso) - now) / 1000;
    const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
    for (const [unit, size] of UNITS) {
      if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
    }
    return format.format(0, "second"); // "now"
  }

  /** The snooze presets, in the viewer's own time zone. */
  function snoozePresets(now) {
    const inAnHour = new Date(now.getTime() + 3600 * 1000);
    const tomorrow = new Date(now);
    tomorrow.setDate(now.getDate() + 1);
    tomorrow.setHours(9, 0, 0, 0);
    const nextWeek = new Date(now);
    nextWeek.setDate(now.getDate() + ((1 - now.getDay() + 7) % 7 || 7)); // next Monday
    nextWeek.setHours(9, 0, 0, 0);
    return [
      ["snooze_hour", inAnHour],
      ["snooze_tomorrow", tomorrow],
      ["snooze_next_week", nextWeek],
    ];
  }

  function newestFirst(a, b) {
    const byTime = Date.parse(b.created_at) - Date.parse(a.created_at);
    return byTime || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
  }

  function belongsTo(tab, message, now) {
    if (message.expires_at && Date.parse(message.expires_at) <= now) return false;
    if (message.snoozed_until && Date.parse(message.snoozed_until) > now) return false;
    if (tab === "archived") return Boolean(message.archived_at);
    return !message.archived_at && (tab === "all" || !message.read_at);
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  class HeraldError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  /** Reads a text/event-stream body, calling onEvent({type, data, id}) per event and
   * onId(id) for every id line; resolves when the server ends the stream. */
  async function readEventStream(body, onEvent, onId) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let type = "";
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (;;) {
        const end = buffer.search(/\r\n|\r|\n/);
        if (end < 0 || (buffer[end] === "\r" && end === buffer.length - 1)) break; // need more
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n", end) ? 2 : 1));
        if (line === "") {
          if (data.length) onEvent({ type: type || "message", data: data.join("\n") });
          type = "";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue; // a comment: the heartbeat
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? "" : line.slice(colon + 1);
        if (text.startsWith(" ")) text = text.slice(1);
        if (field === "event") type = text;
        else if (field === "data") data.push(text);
        else if (field === "id") onId(text);
      }
    }
  }

  // ---------------------------------------------------------------- the element

  // Where this script was loaded from: Herald's URL, when api-base is not given.
  const SCRIPT_BASE = (() => {
    const src = document.currentScript && document.currentScript.src;
    return src ? src.replace(/\/v1\/inbox\/widget\.js(\?.*)?$/, "") : null;
  })();

  let instances = 0;
  // Properties a page may set before this script has defined the element (they are then the
  // element's own, hiding the accessors until connectedCallback moves them).
  const UPGRADED_PROPERTIES = ["token", "tokenProvider", "strings", "channels", "categories", "categoryLabels"];

  class HeraldInbox extends HTMLElement {
    static get observedAttributes() {
      return ["api-base", "token", "locale", "theme", "align"];
    }

    constructor() {
      super();
      this._uid = `herald-${++instances}`;
      this._token = null;
      this._tokenProvider = null;
      this._strings = { ...STRINGS };
      this._categories = [];
      this._categoryLabels = {};
      this._channels = null;
      this._tokenWaiters = [];
      this._counts = { total: 0, unread: 0, unseen: 0 };
      this._countsVersion = 0;
      this._tab = null;
      this._messages = [];
      this._nextCursor = null;
      this._pending = null; // events that arrive while a tab loads, applied after it
      this._loadGeneration = 0;
      this._streamGeneration = 0;
      this._lastEventId = null;
      this._live = false;
      this._started = false;
      this._isOpen = false;
      this._prefs = null;
      this._snoozeTarget = null;
      this._darkScheme = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
      this._onSchemeChange = () => this._applyTheme();
      this._onWorkerMessage = (event) => {
        if (event.data && event.data.type === "herald-push") this._emit("herald-push", { message: event.data.message });
      };
      this._onDocumentPointer = (event) => {
        if (this._isOpen && !event.composedPath().includes(this)) this.close({ returnFocus: false });
      };
      this.attachShadow({ mode: "open" });
      this._build();
    }

    // ---- public API

    static get version() {
      return VERSION;
    }

    get token() {
      return this._token;
    }

    set token(value) {
      this._setToken(value ? String(value) : null);
    }

    /** async () => a new token (string): called when the current one has expired. */
    get tokenProvider() {
      return this._tokenProvider;
    }

    set tokenProvider(fn) {
      this._tokenProvider = typeof fn === "function" ? fn : null;
      this._start();
    }

    /** Labels, merged over the English defaults: {markAllRead: "Alles gelesen", ...}. */
    get strings() {
      return { ...this._strings };
    }

    set strings(value) {
      this._strings = { ...STRINGS, ...(value || {}) };
      this._renderAll();
    }

    /** Categories (event keys or categories) the preferences view always lists. */
    get categories() {
      return [...this._categories];
    }

    set categories(value) {
      this._categories = Array.isArray(value) ? value.map(String) : [];
    }

    /** The channels the preferences view offers: ["in_app", "email", "sms"] unless set. */
    get channels() {
      return [...(this._channels || DEFAULT_CHANNELS)];
    }

    set channels(value) {
      this._channels = Array.isArray(value) && value.length ? value.map(String) : null;
    }

    /** Display names of categories: {"booking.reminder": "Reminders"}. */
    get categoryLabels() {
      return { ...this._categoryLabels };
    }

    set categoryLabels(value) {
      this._categoryLabels = value && typeof value === "object" ? { ...value } : {};
    }

    get unreadCount() {
      return this._counts.unread;
    }

    get counts() {
      return { ...this._counts };
    }

    get isOpen() {
      return this._isOpen;
    }

    open() {
      if (this._isOpen) return;
      this._isOpen = true;
      this._panel.hidden = false;
      this._bell.setAttribute("aria-expanded", "true");
      this._renderList();
      this._tabButtons[this._tab].focus();
      this._clock = setInterval(() => this._renderTimes(), 30000);
      this._markSeen();
      if (this._lookedAt) this._lookedAt(); // a paused stream resumes
      this._emit("herald-open-change", { open: true });
    }

    close({ returnFocus = true } = {}) {
      if (!this._isOpen) return;
      this._isOpen = false;
      this._closeSnoozeMenu(false);
      this._panel.hidden = true;
      this._bell.setAttribute("aria-expanded", "false");
      clearInterval(this._clock);
      if (returnFocus) this._bell.focus();
      this._emit("herald-open-change", { open: false });
    }

    toggle() {
      if (this._isOpen) this.close();
      else this.open();
    }

    /** Fetch the counts and the current tab again. */
    refresh() {
      return this._reload();
    }

    /** Browser notifications for this recipient on this browser: registers the service worker,
     * asks the permission, subscribes with Herald's public key and registers the subscription
     * (PUT /v1/inbox/devices). Resolves to the device Herald registered; rejects when push
     * cannot work here or the permission is refused. Call it from a click: browsers ask for
     * the permission only then. */
    async enablePush() {
      const worker = this._serviceWorkerUrl();
      if (!worker) throw new Error("browser notifications need the service-worker attribute (or a page on Herald's origin)");
      // Asked first, while the click that called this still counts as one.
      const permission = Notification.requestPermission();
      const answer = await fetch(`${this._apiBase()}/v1/inbox/push/public-key`, { mode: "cors", credentials: "omit" });
      if (!answer.ok) throw new HeraldError(answer.status, await answer.json().catch(() => null));
      const key = keyBytes((await answer.json()).public_key);
      const registration = await activated(await navigator.serviceWorker.register(worker));
      if ((await permission) !== "granted") throw new Error(this._t("pushBlocked"));
      let subscription = await registration.pushManager.getSubscription();
      if (subscription && !sameBytes(subscription.options && subscription.options.applicationServerKey, key)) {
        await subscription.unsubscribe(); // made with another key: pushes signed with ours would be refused
        subscription = null;
      }
      if (!subscription) {
        subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
      }
      return this._request("PUT", "/v1/inbox/devices", {
        body: { kind: "webpush", subscription: subscription.toJSON(), label: deviceLabel() },
      });
    }

    // ---- lifecycle

    connectedCallback() {
      // Properties a host set before this script defined the element.
      for (const name of UPGRADED_PROPERTIES) {
        if (Object.prototype.hasOwnProperty.call(this, name)) {
          const value = this[name];
          delete this[name];
          this[name] = value;
        }
      }
      const first = this.getAttribute("default-tab");
      if (!this._tab) this._tab = TABS.includes(first) ? first : "all";
      this._applyTheme();
      if (this._darkScheme) this._darkScheme.addEventListener("change", this._onSchemeChange);
      document.addEventListener("pointerdown", this._onDocumentPointer, true);
      if (PUSH_SUPPORTED) navigator.serviceWorker.addEventListener("message", this._onWorkerMessage);
      this._renderAll();
      this._start();
    }

    disconnectedCallback() {
      if (this._darkScheme) this._darkScheme.removeEventListener("change", this._onSchemeChange);
      document.removeEventListener("pointerdown", this._onDocumentPointer, true);
      if (PUSH_SUPPORTED) navigator.serviceWorker.removeEventListener("message", this._onWorkerMessage);
      this._stopStream();
      clearInterval(this._clock);
      this._started = false;
    }

    attributeChangedCallback(name, old, value) {
      if (name === "token") this._setToken(value);
      else if (name === "theme") this._applyTheme();
      else if (name === "align") this._root.dataset.align = value === "left" ? "left" : "right";
      else if (name === "locale") this._renderAll();
      else if (name === "api-base" && old !== value && this._started) {
        this._stopStream();
        this._started = false;
        this._start();
      }
    }

    // ---- building the shadow DOM (once)

    _build() {
      const id = (suffix) => `${this._uid}-${suffix}`;
      this._bell = h(
        "button",
        {
          type: "button",
          class: "bell",
          part: "bell",
          "aria-haspopup": "dialog",
          "aria-expanded": "false",
          "aria-controls": id("panel"),
          onclick: () => this.toggle(),
        },
        icon("bell"),
      );
      this._badge = h("span", { class: "badge", part: "badge", "aria-hidden": "true", hidden: true });
      this._bell.append(this._badge);

      this._heading = h("h2", { id: id("heading") });
      this._markAll = h("button", {
        type: "button",
        class: "text-button",
        onclick: () => this._markAllRead(),
      });
      this._prefsButton = h(
        "button",
        { type: "button", class: "icon-button", onclick: () => this._showPreferences() },
        icon("preferences"),
      );
      this._tabButtons = {};
      this._tabCounts = {};
      for (const tab of TABS) {
        this._tabCounts[tab] = h("span", { class: "count", hidden: true });
        this._tabButtons[tab] = h(
          "button",
          {
            type: "button",
            role: "tab",
            class: "tab",
            id: id(`tab-${tab}`),
            "aria-controls": id("tabpanel"),
            onclick: () => this._selectTab(tab),
          },
          h("span", { class: "label" }),
          this._tabCounts[tab],
        );
      }
      this._tablist = h(
        "div",
        { class: "tabs", role: "tablist", onkeydown: (e) => this._onTabsKeydown(e) },
        TABS.map((tab) => this._tabButtons[tab]),
      );
      this._feed = h("div", {
        class: "feed",
        role: "feed",
        onkeydown: (e) => this._onFeedKeydown(e),
        onfocusin: (e) => this._onFeedFocus(e),
      });
      this._empty = h("p", { class: "empty", hidden: true });
      this._more = h("button", {
        type: "button",
        class: "text-button",
        onclick: () => this._loadMore(),
      });
      this._moreRow = h("div", { class: "more", hidden: true }, this._more);
      this._tabpanel = h(
        "div",
        { class: "tabpanel", role: "tabpanel", id: id("tabpanel") },
        this._feed,
        this._empty,
        this._moreRow,
      );
      this._listView = h(
        "div",
        { class: "list-view" },
        h("div", { class: "header" }, this._heading, this._markAll, this._prefsButton),
        this._tablist,
        this._tabpanel,
      );

      this._prefsHeading = h("h2", { id: id("prefs-heading") });
      this._backButton = h(
        "button",
        { type: "button", class: "icon-button", onclick: () => this._showList() },
        icon("back"),
      );
      this._prefsBody = h("div", { class: "prefs" });
      this._prefsView = h(
        "div",
        { class: "prefs-view", hidden: true },
        h("div", { class: "prefs-header" }, this._backButton, this._prefsHeading),
        this._prefsBody,
      );

      this._status = h("p", { class: "status", role: "status" });
      this._menu = h("div", {
        class: "menu",
        role: "menu",
        hidden: true,
        onkeydown: (e) => this._onMenuKeydown(e),
      });
      this._panel = h(
        "div",
        {
          class: "panel",
          part: "panel",
          id: id("panel"),
          role: "dialog",
          "aria-labelledby": id("heading"),
          hidden: true,
        },
        this._listView,
        this._prefsView,
        this._status,
        this._menu,
      );
      this._announcer = h("div", { class: "sr-only", "aria-live": "polite" });
      this._root = h(
        "div",
        { class: "root", "data-align": "right", onkeydown: (e) => this._onKeydown(e) },
        this._bell,
        this._panel,
        this._announcer,
      );
      // A constructed style sheet: allowed under a Content-Security-Policy without
      // 'unsafe-inline' styles, where a <style> element would not be.
      if ("adoptedStyleSheets" in Document.prototype && "replaceSync" in CSSStyleSheet.prototype) {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(STYLE);
        this.shadowRoot.adoptedStyleSheets = [sheet];
      } else {
        const style = document.createElement("style");
        style.textContent = STYLE;
        this.shadowRoot.append(style);
      }
      this.shadowRoot.append(this._root);
    }

    // ---- text

    _t(key, vars) {
      const template = this._strings[key] ?? STRINGS[key] ?? key;
      return String(template).replace(/\{(\w+)\}/g, (_, name) => (vars && name in vars ? vars[name] : ""));
    }

    _locale() {
      return this.getAttribute("locale") || navigator.language || "en";
    }

    _number(n) {
      try {
        return new Intl.NumberFormat(this._locale()).format(n);
      } catch (_) {
        return String(n);
      }
    }

    _applyTheme() {
      const wanted = this.getAttribute("theme") || "auto";
      const dark = wanted === "dark" || (wanted !== "light" && Boolean(this._darkScheme && this._darkScheme.matches));
      this._root.dataset.theme = dark ? "dark" : "light";
    }

    _emit(name, detail, cancelable = false) {
      const event = new CustomEvent(name, { detail, bubbles: true, composed: true, cancelable });
      this.dispatchEvent(event);
      return event;
    }

    _showStatus(text, isError = false) {
      this._status.textContent = text || "";
      this._status.classList.toggle("error", Boolean(isError));
    }

    _fail(err) {
      const detail = err instanceof HeraldError ? err.message : String((err && err.message) || err);
      this._showStatus(this._t("failed", { detail }), true);
      this._emit("herald-error", {
        status: err instanceof HeraldError ? err.status : 0,
        problem: err instanceof HeraldError ? err.problem : null,
        message: detail,
      });
    }

    // ---- tokens and requests

    _apiBase() {
      const base = this.getAttribute("api-base") || SCRIPT_BASE;
      return base ? base.replace(/\/+$/, "") : null;
    }

    /** The service worker to register: the page's own (the service-worker attribute), or
     * Herald's when the page is on Herald's origin; null when push cannot work here. */
    _serviceWorkerUrl() {
      if (!PUSH_SUPPORTED || !this._apiBase()) return null;
      const own = this.getAttribute("service-worker");
      if (own) return new URL(own, document.baseURI).href;
      const herald = new URL(`${this._apiBase()}/v1/inbox/herald-sw.js`, document.baseURI);
      return herald.origin === location.origin ? herald.href : null;
    }

    _setToken(value) {
      if (!value || value === this._token) return;
      this._token = value;
      const waiters = this._tokenWaiters;
      this._tokenWaiters = [];
      for (const resolve of waiters) resolve(value);
      this._start();
    }

    _nextToken(timeoutMs) {
      return new Promise((resolve) => {
        this._tokenWaiters.push(resolve);
        if (timeoutMs !== Infinity) setTimeout(() => resolve(null), timeoutMs);
      });
    }

    /** A new token after `expired` stopped working: from tokenProvider, else from the host
     * answering herald-token-expired by setting `token`. One refresh at a time. */
    _refreshToken(expired) {
      if (this._token && this._token !== expired) return Promise.resolve(true);
      if (!this._refreshing) {
        this._refreshing = (async () => {
          try {
            const fromHost = this._nextToken(TOKEN_WAIT_MS);
            this._emit("herald-token-expired", {});
            const token = this._tokenProvider ? await this._tokenProvider() : await fromHost;
            if (token && token !== expired) this._setToken(String(token));
            return Boolean(this._token && this._token !== expired);
          } catch (err) {
            this._emit("herald-error", { status: 401, problem: null, message: `tokenProvider: ${err}` });
            return false;
          } finally {
            this._refreshing = null;
          }
        })();
      }
      return this._refreshing;
    }

    async _request(method, path, { query, body, contentType = "application/json" } = {}) {
      const url = new URL(this._apiBase() + path);
      for (const [name, value] of Object.entries(query || {})) {
        if (value !== null && value !== undefined) url.searchParams.set(name, value);
      }
      for (let attempt = 0; ; attempt++) {
        const token = this._token;
        const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
        if (body !== undefined) headers["Content-Type"] = contentType;
        const response = await fetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          mode: "cors",
          credentials: "omit",
        });
        if (response.status === 401 && attempt === 0 && (await this._refreshToken(token))) continue;
        if (!response.ok) {
          let problem = null;
          try {
            problem = await response.json();
          } catch (_) {
            // not problem details: the status says enough
          }
          throw new HeraldError(response.status, problem);
        }
        return response.status === 204 ? null : response.json();
      }
    }

    async _start() {
      if (this._started || !this.isConnected || !this._apiBase()) return;
      if (!this._token && !this._tokenProvider) return;
      this._started = true;
      if (!this._token && !(await this._refreshToken(null))) {
        this._started = false;
        this._showStatus(this._t("signedOut"), true);
        return;
      }
      this._reload();
      this._runStream();
    }

    // ---- the live stream

    _stopStream() {
      this._streamGeneration++;
      if (this._streamAbort) this._streamAbort.abort();
      this._setLive(false);
    }

    _setLive(live) {
      if (live === this._live) return;
      this._live = live;
      this._emit("herald-connection-change", { live });
    }

    async _runStream() {
      const generation = ++this._streamGeneration;
      let backoff = 1000;
      while (this.isConnected && generation === this._streamGeneration) {
        const token = this._token;
        const controller = new AbortController();
        this._streamAbort = controller;
        this._streamExpired = false;
        this._streamClosed = false;
        let authRefused = false;
        try {
          const headers = { Authorization: `Bearer ${token}`, Accept: "text/event-stream" };
          if (this._lastEventId !== null) headers["Last-Event-ID"] = this._lastEventId;
          const response = await fetch(`${this._apiBase()}/v1/inbox/stream`, {
            headers,
            signal: controller.signal,
            cache: "no-store",
            mode: "cors",
            credentials: "omit",
          });
          if (response.status === 401) {
            authRefused = true;
          } else if (!response.ok || !response.body) {
            throw new HeraldError(response.status, null);
          } else {
            this._setLive(true);
            if (this._status.textContent === this._t("reconnecting")) this._showStatus("");
            backoff = 1000;
            await readEventStream(
              response.body,
              (event) => this._onStreamEvent(event, controller),
              (id) => {
                this._lastEventId = id;
              },
            );
          }
        } catch (err) {
          if (generation !== this._streamGeneration) return; // stopped on purpose
        }
        if (generation !== this._streamGeneration) return;
        this._setLive(false);
        if (this._streamClosed) {
          // Herald closed this stream for a newer one of the same recipient (it keeps at most
          // 10 per process): reconnecting at once would close another window's in turn. Wait
          // until this window is looked at again, then resume from the last event.
          this._showStatus(this._t("paused"));
          await this._untilLookedAt();
          this._showStatus("");
          continue;
        }
        if (authRefused || this._streamExpired) {
          // The token ran out: a new one, then resume from the last event at once.
          if (await this._refreshToken(token)) continue;
          this._showStatus(this._t("signedOut"), true);
          await this._nextToken(Infinity);
          continue;
        }
        this._showStatus(this._t("reconnecting"));
        await sleep(backoff * (0.75 + Math.random() * 0.5));
        backoff = Math.min(backoff * 2, MAX_RECONNECT_MS);
      }
    }

    /** Resolves when the page becomes visible again or the dropdown is opened. */
    _untilLookedAt() {
      return new Promise((resolve) => {
        const onVisible = () => {
          if (document.visibilityState === "visible") done();
        };
        const done = () => {
          document.removeEventListener("visibilitychange", onVisible);
          this._lookedAt = null;
          resolve();
        };
        document.addEventListener("visibilitychange", onVisible);
        this._lookedAt = done;
      });
    }

    _onStreamEvent({ type, data }, controller) {
      let payload = {};
      try {
        payload = data ? JSON.parse(data) : {};
      } catch (_) {
        return;
      }
      if (type === "closed") {
        this._streamClosed = true;
        controller.abort();
        return;
      }
      if (type === "expired") {
        this._streamExpired = true;
        controller.abort(); // the server ends it too; do not wait for that
        return;
      }
      if (type === "ready") {
        if (payload.last_event_id !== undefined && payload.last_event_id !== null) {
          this._lastEventId = String(payload.last_event_id);
        }
        this._setCounts(payload.counts);
        this._reload(); // what changed before the stream was open
        return;
      }
      if (type === "reset") {
        this._reload();
        return;
      }
      const event = { type, data: payload };
      if (this._pending) this._pending.push(event);
      else {
        this._apply(event);
        this._renderList();
      }
      if (type === "message.created" && payload.message) {
        this._announcer.textContent = this._t("newMessage", { title: payload.message.title });
        this._emit("herald-message-received", { message: payload.message });
      }
    }

    /** One event's effect on the loaded messages (the counts come with it). */
    _apply({ type, data }) {
      if (data.counts) this._setCounts(data.counts);
      const now = Date.now();
      if ((type === "message.created" || type === "message.returned") && data.message) {
        this._upsert(data.message, now);
      } else if (type === "messages.updated" && Array.isArray(data.ids)) {
        const change = CHANGES[data.change];
        if (!change) return;
        const at = data.at || new Date(now).toISOString();
        const ids = new Set(data.ids);
        let missing = false;
        for (const id of ids) {
          const message = this._messages.find((m) => m.id === id);
          if (message) Object.assign(message, change(message, at, data.until));
          else missing = true;
        }
        this._messages = this._messages.filter((m) => belongsTo(this._tab, m, now));
        if (missing && (BRINGS_IN[this._tab] || []).includes(data.change)) this._scheduleReload();
      } else if (type === "messages.deleted" && Array.isArray(data.ids)) {
        const ids = new Set(data.ids);
        this._messages = this._messages.filter((m) => !ids.has(m.id));
      }
    }

    _upsert(message, now) {
      const others = this._messages.filter((m) => m.id !== message.id);
      if (belongsTo(this._tab, message, now)) {
        others.push({ ...message });
        others.sort(newestFirst);
      }
      this._messages = others;
    }

    _scheduleReload() {
      clearTimeout(this._reloadTimer);
      this._reloadTimer = setTimeout(() => this._reload(), 150);
    }

    _setCounts(counts) {
      if (!counts || typeof counts.unread !== "number") return;
      const before = this._counts;
      this._counts = { total: counts.total ?? 0, unread: counts.unread, unseen: counts.unseen ?? 0 };
      this._countsVersion++;
      this._renderCounts();
      if (before.unread !== this._counts.unread || before.total !== this._counts.total) {
        this._emit("herald-unread-change", { ...this._counts });
      }
    }

    // ---- loading

    async _reload() {
      const generation = ++this._loadGeneration;
      const tab = this._tab;
      this._pending = [];
      this._feed.setAttribute("aria-busy", "true");
      try {
        const [page, counts] = await Promise.all([
          this._request("GET", "/v1/inbox", { query: { ...TAB_QUERY[tab], limit: PAGE_SIZE } }),
          this._request("GET", "/v1/inbox/counts"),
        ]);
        if (generation !== this._loadGeneration) return;
        this._messages = page.data.filter((m) => belongsTo(tab, m, Date.now()));
        this._nextCursor = page.next_cursor || null;
        this._setCounts(counts);
        if (this._status.classList.contains("error")) this._showStatus("");
      } catch (err) {
        if (generation !== this._loadGeneration) return;
        this._showStatus(this._t("loadFailed", { detail: err.message }), true);
      }
      const pending = this._pending || [];
      this._pending = null;
      for (const event of pending) this._apply(event);
      this._feed.removeAttribute("aria-busy");
      this._renderList();
    }

    async _loadMore() {
      if (!this._nextCursor) return;
      const tab = this._tab;
      try {
        const page = await this._request("GET", "/v1/inbox", {
          query: { ...TAB_QUERY[tab], limit: PAGE_SIZE, cursor: this._nextCursor },
        });
        if (tab !== this._tab) return;
        const known = new Set(this._messages.map((m) => m.id));
        this._messages.push(...page.data.filter((m) => !known.has(m.id)));
        this._nextCursor = page.next_cursor || null;
        this._renderList();
      } catch (err) {
        this._fail(err);
      }
    }

    // ---- actions

    /** A change the server will confirm: shown at once, sent, the counts taken from the
     * answer unless a stream event brought fresher ones meanwhile. */
    async _send(path, body, localEvent) {
      if (localEvent) {
        this._apply(localEvent);
        this._renderList();
      }
      const version = this._countsVersion;
      try {
        const answer = await this._request("POST", path, { body });
        if (answer && answer.counts && version === this._countsVersion) this._setCounts(answer.counts);
        return answer;
      } catch (err) {
        this._fail(err);
        this._reload();
        return null;
      }
    }

    _change(endpoint, change, ids, until) {
      const at = new Date().toISOString();
      return this._send(`/v1/inbox/${endpoint}`, { ids }, {
        type: "messages.updated",
        data: { ids, change, at, until },
      });
    }

    _markAllRead() {
      const ids = this._messages.filter((m) => !m.read_at).map((m) => m.id);
      const at = new Date().toISOString();
      this._send("/v1/inbox/read", { filter: {} }, { type: "messages.updated", data: { ids, change: "read", at } });
    }

    _markSeen() {
      if (this._counts.unseen > 0) this._send("/v1/inbox/seen", { filter: {} }, null);
    }

    /** Following a message: the click is recorded (it reads the message), then the host page
     * navigates to its link, unless a herald-message-click listener called preventDefault(). */
    async _activate(id, { navigate = true } = {}) {
      const message = this._messages.find((m) => m.id === id);
      if (!message) return;
      const url = safeHref(message.action_url);
      const event = this._emit("herald-message-click", { message: { ...message }, url }, true);
      if (!url) {
        // Nothing to follow: opening it reads it.
        if (!message.read_at) await this._change("read", "read", [id]);
        return;
      }
      const read = { type: "messages.updated", data: { ids: [id], change: "read", at: new Date().toISOString() } };
      await this._send(`/v1/inbox/messages/${encodeURIComponent(id)}/click`, undefined, read);
      if (navigate && !event.defaultPrevented) window.location.assign(url);
    }

    _snooze(id, until) {
      const at = new Date().toISOString();
      const data = { ids: [id], change: "snoozed", at, until: until.toISOString() };
      const path = `/v1/inbox/messages/${encodeURIComponent(id)}/snooze`;
      return this._send(path, { until: until.toISOString() }, { type: "messages.updated", data });
    }

    // ---- tabs and views

    _selectTab(tab, { focus = false } = {}) {
      if (tab !== this._tab) {
        this._tab = tab;
        this._messages = [];
        this._nextCursor = null;
        this._renderList();
        this._reload();
      }
      if (focus) this._tabButtons[tab].focus();
    }

    _onTabsKeydown(event) {
      let index = TABS.indexOf(this._tab);
      if (event.key === "ArrowRight") index = (index + 1) % TABS.length;
      else if (event.key === "ArrowLeft") index = (index - 1 + TABS.length) % TABS.length;
      else if (event.key === "Home") index = 0;
      else if (event.key === "End") index = TABS.length - 1;
      else return;
      event.preventDefault();
      this._selectTab(TABS[index], { focus: true });
    }

    _onKeydown(event) {
      if (event.key !== "Escape" || !this._isOpen) return;
      event.preventDefault();
      event.stopPropagation();
      if (!this._menu.hidden) this._closeSnoozeMenu(true);
      else this.close();
    }

    _showPreferences() {
      this._listView.hidden = true;
      this._prefsView.hidden = false;
      this._panel.setAttribute("aria-labelledby", this._prefsHeading.id);
      this._closeSnoozeMenu(false);
      this._showStatus("");
      this._backButton.focus();
      this._prefsBody.replaceChildren(h("p", { class: "hint" }, this._t("loading")));
      this._request("GET", "/v1/inbox/preferences").then(
        (prefs) => {
          this._prefs = prefs;
          this._renderPreferences();
        },
        (err) => this._fail(err),
      );
    }

    _showList() {
      this._prefsView.hidden = true;
      this._listView.hidden = false;
      this._panel.setAttribute("aria-labelledby", this._heading.id);
      this._showStatus("");
      this._prefsButton.focus();
    }

    // ---- the feed: keyboard and rendering

    _items() {
      return [...this._feed.querySelectorAll("article")];
    }

    _onFeedFocus(event) {
      const item = event.target.closest && event.target.closest("article");
      if (item) this._rove(item);
    }

    /** One item is reachable with Tab (roving tabindex); arrows move between items. */
    _rove(item) {
      for (const other of this._items()) other.tabIndex = other === item ? 0 : -1;
    }

    _onFeedKeydown(event) {
      const item = event.target.closest("article");
      if (!item) return;
      const items = this._items();
      const index = items.indexOf(item);
      const onItem = event.target === item;
      let next = null;
      if (event.key === "ArrowDown" || event.key === "PageDown") next = items[index + 1];
      else if (event.key === "ArrowUp" || event.key === "PageUp") next = items[index - 1];
      else if (event.key === "Home" && onItem) next = items[0];
      else if (event.key === "End" && onItem) next = items[items.length - 1];
      else if ((event.key === "Enter" || event.key === " ") && onItem) {
        event.preventDefault();
        this._activate(item.dataset.id);
        return;
      } else return;
      event.preventDefault();
      if (next) {
        this._rove(next);
        next.focus();
      }
    }

    _renderAll() {
      this._heading.textContent = this._t("heading");
      this._markAll.textContent = this._t("markAllRead");
      this._prefsButton.setAttribute("aria-label", this._t("preferences"));
      this._prefsButton.title = this._t("preferences");
      this._prefsHeading.textContent = this._t("preferences");
      this._backButton.setAttribute("aria-label", this._t("back"));
      this._backButton.title = this._t("back");
      this._tablist.setAttribute("aria-label", this._t("tabs"));
      this._more.textContent = this._t("loadMore");
      this._menu.setAttribute("aria-label", this._t("snoozeMenu"));
      for (const tab of TABS) this._tabButtons[tab].querySelector(".label").textContent = this._t(`tab_${tab}`);
      this._renderCounts();
      this._renderList();
      if (this._prefs && !this._prefsView.hidden) this._renderPreferences();
    }

    _renderCounts() {
      const unread = this._counts.unread;
      this._badge.hidden = unread === 0;
      this._badge.textContent = unread > 99 ? "99+" : String(unread);
      // The exact count for assistive technology; the badge shows 99+ past 99.
      this._bell.setAttribute(
        "aria-label",
        unread === 0 ? this._t("bellNoUnread") : this._t("bellUnread", { n: this._number(unread) }),
      );
      this._bell.dataset.unread = String(unread);
      this._tabCounts.unread.hidden = unread === 0;
      // ", " for assistive technology: the tab is named "Unread, 3", not "Unread3".
      const shown = unread > 99 ? "99+" : String(unread);
      this._tabCounts.unread.replaceChildren(h("span", { class: "sr-only" }, ", "), shown);
      this._markAll.disabled = unread === 0;
    }

    _renderList() {
      if (!this._tab) return;
      for (const tab of TABS) {
        const selected = tab === this._tab;
        this._tabButtons[tab].setAttribute("aria-selected", String(selected));
        this._tabButtons[tab].tabIndex = selected ? 0 : -1;
      }
      this._tabpanel.setAttribute("aria-labelledby", this._tabButtons[this._tab].id);
      this._feed.setAttribute("aria-labelledby", this._tabButtons[this._tab].id);

      // Re-rendering replaces items; focus stays on the same control, or the next item.
      const active = this.shadowRoot.activeElement;
      const focusKey = active && this._feed.contains(active) ? active.dataset.key : null;
      const focusIndex = focusKey ? this._items().indexOf(active.closest("article")) : -1;

      const now = Date.now();
      const visible = this._messages.filter((m) => belongsTo(this._tab, m, now));
      const total = this._nextCursor ? -1 : visible.length;
      this._feed.replaceChildren(...visible.map((m, i) => this._item(m, i, total, now)));
      const items = this._items();
      if (items.length) this._rove(items[0]);
      this._feed.hidden = visible.length === 0; // an empty feed is no feed (it needs articles)
      this._empty.hidden = visible.length > 0 || this._feed.hasAttribute("aria-busy");
      this._empty.textContent = this._t(`empty_${this._tab}`);
      this._moreRow.hidden = !this._nextCursor;

      if (focusKey) {
        const again = this._feed.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
        const fallback = items[Math.min(focusIndex, items.length - 1)];
        const target = again || fallback;
        if (target) {
          const item = target.closest("article");
          if (item) this._rove(item);
          target.focus();
        } else this._tabButtons[this._tab].focus();
      }
    }

    _renderTimes() {
      const now = Date.now();
      for (const time of this._feed.querySelectorAll("time")) {
        time.textContent = relativeTime(time.dateTime, this._locale(), now);
      }
    }

    _item(message, index, total, now) {
      const base = `${this._uid}-m-${message.id}`;
      const unread = !message.read_at;
      const priority = PRIORITIES.includes(message.priority) ? message.priority : "normal";
      const chip =
        priority === "normal" ? null : h("span", { class: `chip ${priority}` }, this._t(`priority_${priority}`));
      const when = h(
        "time",
        { datetime: message.created_at, title: this._fullDate(message.created_at) },
        relativeTime(message.created_at, this._locale(), now),
      );
      return h(
        "article",
        {
          class: `item priority-${priority}${unread ? " unread" : ""}`,
          part: "item",
          tabindex: "-1",
          "aria-labelledby": `${base}-title`,
          "aria-describedby": message.body ? `${base}-body` : null,
          "aria-posinset": index + 1,
          "aria-setsize": total,
          "data-id": message.id,
          "data-priority": priority,
          "data-key": `${message.id}:item`,
        },
        h("span", { class: "marker", "aria-hidden": "true" }),
        h(
          "div",
          { class: "content" },
          h(
            "p",
            { class: "title", id: `${base}-title` },
            unread ? h("span", { class: "sr-only" }, `${this._t("unread")}: `) : null,
            this._itemTitle(message),
          ),
          message.body ? h("p", { class: "body", id: `${base}-body` }, message.body) : null,
          h("p", { class: "meta" }, chip, when),
        ),
        h("div", { class: "actions" }, this._itemActions(message, `${base}-title`)),
      );
    }

    /** The title: a link when the message has an http(s) one. A plain click records the click
     * and then navigates (_activate); a click for a new tab is recorded and left to the browser. */
    _itemTitle(message) {
      const href = safeHref(message.action_url);
      if (!href) return message.title;
      const onclick = (event) => {
        const newTab = event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey;
        if (!newTab) event.preventDefault();
        this._activate(message.id, { navigate: !newTab });
      };
      return h("a", { href, "data-key": `${message.id}:open`, onclick }, message.title);
    }

    _itemActions(message, titleId) {
      const id = message.id;
      const button = (iconName, label, onclick, extra) =>
        h(
          "button",
          {
            type: "button",
            class: "icon-button",
            "aria-label": label,
            title: label,
            "aria-describedby": titleId,
            "data-key": `${id}:${iconName}`,
            onclick,
            ...extra,
          },
          icon(iconName),
        );
      if (this._tab === "archived") {
        return [button("unarchive", this._t("unarchive"), () => this._change("unarchive", "unarchived", [id]))];
      }
      // One data-key for read and unread: toggling keeps the focus on the button replacing it.
      const readState = { "data-key": `${id}:read-state` };
      return [
        message.read_at
          ? button("unread", this._t("markUnread"), () => this._change("unread", "unread", [id]), readState)
          : button("read", this._t("markRead"), () => this._change("read", "read", [id]), readState),
        button("snooze", this._t("snooze"), (event) => this._openSnoozeMenu(id, event.currentTarget), {
          "aria-haspopup": "menu",
          "aria-expanded": "false",
        }),
        button("archive", this._t("archive"), () => this._change("archive", "archived", [id])),
      ];
    }

    _fullDate(iso) {
      try {
        const format = new Intl.DateTimeFormat(this._locale(), { dateStyle: "medium", timeStyle: "short" });
        return format.format(new Date(iso));
      } catch (_) {
        return iso; // an unknown locale
      }
    }

    // ---- the snooze menu

    _openSnoozeMenu(id, button) {
      if (this._snoozeTarget === id && !this._menu.hidden) {
        this._closeSnoozeMenu(true);
        return;
      }
      this._closeSnoozeMenu(false);
      this._snoozeTarget = id;
      this._snoozeButton = button;
      button.setAttribute("aria-expanded", "true");
      const when = new Intl.DateTimeFormat(this._locale(), { weekday: "short", hour: "numeric", minute: "2-digit" });
      this._menu.replaceChildren(
        ...snoozePresets(new Date()).map(([label, until]) =>
          h(
            "button",
            {
              type: "button",
              role: "menuitem",
              tabindex: "-1",
              onclick: () => {
                this._closeSnoozeMenu(true);
                this._snooze(id, until);
              },
            },
            h("span", {}, this._t(label)),
            h("span", { class: "when" }, when.format(until)),
          ),
        ),
      );
      this._menu.hidden = false;
      const panel = this._panel.getBoundingClientRect();
      const anchor = button.getBoundingClientRect();
      const height = this._menu.offsetHeight;
      const below = anchor.bottom - panel.top + 4;
      const above = Math.max(4, anchor.top - panel.top - height - 4);
      this._menu.style.top = `${below + height > panel.height ? above : below}px`; // inside the panel
      this._menu.querySelector("button").focus();
    }

    _closeSnoozeMenu(returnFocus) {
      if (this._menu.hidden) return;
      this._menu.hidden = true;
      const button = this._snoozeButton;
      this._snoozeTarget = null;
      this._snoozeButton = null;
      if (button && button.isConnected) {
        button.setAttribute("aria-expanded", "false");
        if (returnFocus) button.focus();
      }
    }

    _onMenuKeydown(event) {
      const items = [...this._menu.querySelectorAll("[role=menuitem]")];
      const index = items.indexOf(this.shadowRoot.activeElement);
      let next = null;
      if (event.key === "ArrowDown") next = items[(index + 1) % items.length];
      else if (event.key === "ArrowUp") next = items[(index - 1 + items.length) % items.length];
      else if (event.key === "Home") next = items[0];
      else if (event.key === "End") next = items[items.length - 1];
      else if (event.key === "Tab") {
        this._closeSnoozeMenu(true);
        return;
      } else return;
      event.preventDefault();
      next.focus();
    }

    // ---- preferences

    _categoryList() {
      const keys = new Set(this._categories);
      for (const key of Object.keys(this._prefs.rules || {})) keys.add(key);
      for (const message of this._messages) if (message.category) keys.add(message.category);
      const label = (key) => this._categoryLabels[key] || key;
      return [...keys].sort((a, b) => label(a).localeCompare(label(b))).map((key) => [key, label(key)]);
    }

    _renderPreferences() {
      const active = this.shadowRoot.activeElement;
      const focusKey = active && this._prefsBody.contains(active) ? active.dataset.key : null;
      const switches = this._prefs.channels || {};
      const shown = this._channels || DEFAULT_CHANNELS;
      const turnedOff = Object.keys(switches).filter((c) => switches[c] === false && !shown.includes(c));
      const channels = [...shown, ...turnedOff];
      const parts = [
        this._channelSwitches(channels),
        this._categorySwitches(channels),
        this._doNotDisturb(),
        this._browserPush(), // null where browser notifications cannot work
      ];
      this._prefsBody.replaceChildren(...parts.filter((part) => part !== null));
      if (focusKey) {
        const again = this._prefsBody.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
        if (again) again.focus();
      }
    }

    _channelName(channel) {
      return this._strings[`channel_${channel}`] || channel;
    }

    /** A switch per channel: off, nothing is sent to the recipient through it. */
    _channelSwitches(channels) {
      const switches = this._prefs.channels || {};
      const toggle = (channel) =>
        h(
          "label",
          { class: "check" },
          h("input", {
            type: "checkbox",
            role: "switch",
            "data-key": `channel:${channel}`,
            checked: switches[channel] !== false,
            onchange: (e) => this._savePreferences({ channels: { [channel]: e.target.checked } }),
          }),
          this._channelName(channel),
        );
      return h(
        "fieldset",
        {},
        h("legend", {}, this._t("channels")),
        h("p", { class: "hint" }, this._t("channelsHint")),
        h("div", { class: "switches" }, channels.map(toggle)),
      );
    }

    /** A table: a row per category, a checkbox per channel (`rules` in the preferences). */
    _categorySwitches(channels) {
      const categories = this._categoryList();
      if (!categories.length) return null;
      const switches = this._prefs.channels || {};
      const rules = this._prefs.rules || {};
      const cell = (key, label, channel) =>
        h(
          "td",
          {},
          h("input", {
            type: "checkbox",
            "data-key": `rule:${key}:${channel}`,
            "aria-label": this._t("categorySwitch", { channel: this._channelName(channel), category: label }),
            checked: switches[channel] !== false && (rules[key] || {})[channel] !== false,
            disabled: switches[channel] === false, // the channel's own switch is off
            onchange: (e) => this._savePreferences({ rules: { [key]: { [channel]: e.target.checked } } }),
          }),
        );
      const head = h(
        "tr",
        {},
        h("th", { scope: "col" }, this._t("category")),
        channels.map((c) => h("th", { scope: "col" }, this._channelName(c))),
      );
      const rows = categories.map(([key, label]) =>
        h("tr", {}, h("th", { scope: "row" }, label), channels.map((c) => cell(key, label, c))),
      );
      return h(
        "fieldset",
        {},
        h("legend", {}, this._t("categories")),
        h("table", {}, h("thead", {}, head), h("tbody", {}, rows)),
      );
    }

    /** The do-not-disturb window: on or off, from and until (the recipient's local times). */
    _doNotDisturb() {
      const dnd = this._prefs.dnd || { enabled: false, start: "22:00", end: "07:00" };
      const field = (name) => this._prefsBody.querySelector(`[data-key='dnd:${name}']`);
      const save = () =>
        this._savePreferences({
          dnd: { enabled: field("enabled").checked, start: field("start").value, end: field("end").value },
        });
      const time = (name, value) =>
        h("input", { type: "time", "data-key": `dnd:${name}`, value: String(value || "").slice(0, 5), onchange: save });
      return h(
        "fieldset",
        {},
        h("legend", {}, this._t("dnd")),
        h(
          "label",
          { class: "check" },
          h("input", { type: "checkbox", "data-key": "dnd:enabled", checked: Boolean(dnd.enabled), onchange: save }),
          this._t("dndEnabled"),
        ),
        h(
          "div",
          { class: "times" },
          h("label", {}, this._t("dndStart"), time("start", dnd.start)),
          h("label", {}, this._t("dndEnd"), time("end", dnd.end)),
        ),
      );
    }

    /** "Enable browser notifications", where they can work; what it shows once they are on or
     * blocked is found out after rendering (the subscription is read asynchronously). */
    _browserPush() {
      const worker = this._serviceWorkerUrl();
      if (!worker) return null;
      const hint = h("p", { class: "hint" }, this._t("pushHint"));
      const button = h("button", {
        type: "button",
        class: "text-button",
        "data-key": "push:enable",
        onclick: async () => {
          button.disabled = true;
          button.textContent = this._t("pushEnabling");
          try {
            await this.enablePush();
            this._showStatus(this._t("pushOn"));
          } catch (err) {
            this._fail(err);
          }
          this._showPushState(worker, hint, button);
        },
      }, this._t("pushEnable"));
      this._showPushState(worker, hint, button);
      return h("fieldset", { class: "push" }, h("legend", {}, this._t("push")), hint, button);
    }

    async _showPushState(worker, hint, button) {
      let subscribed = false;
      try {
        const registration = await navigator.serviceWorker.getRegistration(worker);
        subscribed = Boolean(registration && (await registration.pushManager.getSubscription()));
      } catch (_) {
        // unknown: offered as off
      }
      const permission = Notification.permission;
      const on = permission === "granted" && subscribed;
      hint.textContent = this._t(on ? "pushOn" : permission === "denied" ? "pushBlocked" : "pushHint");
      button.hidden = on || permission === "denied";
      button.disabled = false;
      button.textContent = this._t("pushEnable");
    }

    async _savePreferences(patch) {
      this._showStatus(this._t("saving"));
      try {
        this._prefs = await this._request("PATCH", "/v1/inbox/preferences", {
          body: patch,
          contentType: "application/merge-patch+json",
        });
        this._showStatus(this._t("saved"));
      } catch (err) {
        this._fail(err);
      }
      this._renderPreferences(); // what is stored, whether the change was taken or not
    }
  }

  customElements.define("herald-inbox", HeraldInbox);
})();

/*!
 * Herald's service worker for Web Push: served at GET /v1/inbox/herald-sw.js.
 *
 * On a push from Herald (JSON: title, body, icon, action_url, data) it shows the notification
 * and posts {type: "herald-push", message} to the pages of its origin that are open (the
 * <herald-inbox> widget re-emits it as a `herald-push` event); a click on the notification
 * opens its action URL (http(s) only), or focuses a window already showing it.
 *
 * A service worker must come from the page's own origin. The widget registers this file
 * itself when the page is on Herald's origin; elsewhere, serve a one-line worker from your
 * origin and name it in the widget's `service-worker` attribute:
 *
 *   // /herald-sw.js on your site
 *   importScripts("https://herald.example.com/v1/inbox/herald-sw.js");
 *
 * A site with a service worker of its own adds that line to it instead (a scope has one
 * worker), and names its own worker.
 */
(() => {
  "use strict";
  if (self.heraldPushWorker) return; // imported twice
  self.heraldPushWorker = "1.0.0";

  const SAFE_URL = /^https?:\/\//i;

  function readPush(event) {
    if (!event.data) return {};
    try {
      const message = event.data.json();
      return message && typeof message === "object" ? message : { body: String(message) };
    } catch (_) {
      return { body: event.data.text() };
    }
  }

  async function tellPages(message) {
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const page of pages) page.postMessage({ type: "herald-push", message });
  }

  self.addEventListener("install", () => self.skipWaiting());
  self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

  self.addEventListener("push", (event) => {
    const message = readPush(event);
    const data = message.data && typeof message.data === "object" ? message.data : {};
    const actionUrl = typeof message.action_url === "string" && SAFE_URL.test(message.action_url)
      ? message.action_url
      : null;
    const options = {
      body: typeof message.body === "string" ? message.body : "",
      data: { ...data, action_url: actionUrl },
    };
    if (typeof message.icon === "string" && SAFE_URL.test(message.icon)) options.icon = message.icon;
    // The same delivery pushed twice (a retry) replaces its notification instead of adding one.
    if (data.herald_delivery_id) options.tag = `herald-${data.herald_delivery_id}`;
    const title = typeof message.title === "string" && message.title ? message.title : "Notification";
    event.waitUntil(Promise.all([self.registration.showNotification(title, options), tellPages(message)]));
  });

  self.addEventListener("notificationclick", (event) => {
    event.notification.close();
    const url = event.notification.data && event.notification.data.action_url;
    if (!url || !SAFE_URL.test(url)) return;
    event.waitUntil(
      (async () => {
        const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
        const open = pages.find((page) => page.url === url && "focus" in page);
        if (open) return open.focus();
        return self.clients.openWindow(url);
      })(),
    );
  });
})();

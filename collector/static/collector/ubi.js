/*
 * The UBI platform's collector script: tracks a web site's searches and what its visitors do with the results, as
 * User Behavior Insights documents posted to an ingest key's collector URL. No dependency; docs/collector.md.
 *
 *   <script async src="https://ubi.example.com/collect/ubi.js"
 *           data-collector-url="https://ubi.example.com/collect/ubi_pk_..."
 *           data-application="shop"></script>
 *
 * Calls made before the script has loaded wait in a queue (the one-line snippet in docs/collector.md):
 *
 *   ubi("trackQuery", {user_query: "toner", query_response_hit_ids: ["sku-1", "sku-2"]});
 *   ubi("trackEvent", {action_name: "click", event_attributes: {object: {object_id: "sku-2"}, position: {ordinal: 2}}});
 *
 * Once loaded, the same calls are methods: ubi.trackQuery(query) (returns the query_id), ubi.trackEvent(event),
 * ubi.setQueryId(id), ubi.flush(). Documents are sent in batches, as JSON arrays with fetch, and whatever is still
 * pending when the page is hidden (another page opened, the tab closed or put in the background) leaves with
 * navigator.sendBeacon, as text/plain so that no preflight is needed.
 */
(function () {
  "use strict";

  var existing = window.ubi;
  if (existing && existing.loaded) {
    return; // the tag appears twice on the page
  }

  var script = document.currentScript;
  var data = script ? script.dataset : {};
  var collectorUrl = (data.collectorUrl || "").replace(/\/+$/, "");
  var application = data.application || undefined;
  var batchSize = positiveInteger(data.batchSize, 10);
  var batchDelay = positiveInteger(data.batchDelayMs, 1000);
  // A fetch with keepalive, like a beacon, may carry at most 64 KiB: a larger batch is sent without keepalive.
  var KEEPALIVE_LIMIT = 60000;

  var KEYS = {client: "ubi_client_id", session: "ubi_session_id", query: "ubi_query_id"};
  var clientId = remembered(storage("localStorage"), KEYS.client);
  var sessionId = remembered(storage("sessionStorage"), KEYS.session);
  var queryId = read(storage("sessionStorage"), KEYS.query);

  var pending = {ubi_queries: [], ubi_events: []};
  var timer = null;

  /** A query the visitor made: fills in query_id (a new one unless given), application, client_id, timestamp.
   * The query_id becomes the current one, which later events carry; it is returned. */
  function trackQuery(query) {
    var doc = Object.assign({}, query);
    if (!doc.query_id) {
      doc.query_id = uuid();
    }
    fill(doc, {application: application, client_id: clientId, timestamp: now()});
    setQueryId(doc.query_id);
    enqueue("ubi_queries", doc);
    return doc.query_id;
  }

  /** Something the visitor did: fills in application, client_id, session_id, timestamp and the current query_id
   * (unless the event names its own). */
  function trackEvent(event) {
    var doc = Object.assign({}, event);
    fill(doc, {
      application: application,
      client_id: clientId,
      session_id: sessionId,
      query_id: queryId || undefined,
      timestamp: now(),
    });
    enqueue("ubi_events", doc);
  }

  /** The query later events belong to, for searches whose query the search engine tracks itself; null: none. */
  function setQueryId(id) {
    queryId = id || null;
    write(storage("sessionStorage"), KEYS.query, queryId);
  }

  /** Send what is pending now, with fetch. */
  function flush() {
    send(function (url, body) {
      fetch(url, {
        method: "POST",
        body: body,
        headers: {"Content-Type": "application/json"},
        credentials: "omit",
        keepalive: new Blob([body]).size <= KEEPALIVE_LIMIT,
      }).then(
        function (response) {
          if (!response.ok) {
            console.warn("ubi.js: " + url + " refused a batch (HTTP " + response.status + ")");
          }
        },
        function (error) {
          console.warn("ubi.js: a batch could not be sent to " + url + ": " + error);
        }
      );
    });
  }

  /** Send what is pending as beacons, which the browser delivers even after the page is gone. */
  function flushBeacons() {
    send(function (url, body) {
      if (!navigator.sendBeacon || !navigator.sendBeacon(url, new Blob([body], {type: "text/plain"}))) {
        fetch(url, {method: "POST", body: body, credentials: "omit", keepalive: true}).catch(function () {});
      }
    });
  }

  function send(post) {
    clearTimeout(timer);
    timer = null;
    if (!collectorUrl) {
      return;
    }
    // Queries first: the events that follow may name them.
    ["ubi_queries", "ubi_events"].forEach(function (endpoint) {
      while (pending[endpoint].length) {
        post(collectorUrl + "/" + endpoint, JSON.stringify(pending[endpoint].splice(0, batchSize)));
      }
    });
  }

  function enqueue(endpoint, doc) {
    pending[endpoint].push(doc);
    if (pending[endpoint].length >= batchSize) {
      flush();
    } else if (timer === null) {
      timer = setTimeout(flush, batchDelay);
    }
  }

  /** Sets each of ``defaults``' fields the document lacks; what the caller gave wins. */
  function fill(doc, defaults) {
    Object.keys(defaults).forEach(function (name) {
      if (!(name in doc) && defaults[name] !== undefined) {
        doc[name] = defaults[name];
      }
    });
  }

  function now() {
    return new Date().toISOString();
  }

  /** A random (version 4) UUID; crypto.randomUUID exists only on https pages. */
  function uuid() {
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (byte) {
      return (byte + 0x100).toString(16).slice(1);
    }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function positiveInteger(text, otherwise) {
    var value = parseInt(text, 10);
    return value > 0 ? value : otherwise;
  }

  // Storage may be refused (privacy settings, sandboxed frames): the ids then last as long as the page.
  function storage(name) {
    try {
      return window[name];
    } catch (error) {
      return null;
    }
  }

  function read(store, key) {
    try {
      return store ? store.getItem(key) : null;
    } catch (error) {
      return null;
    }
  }

  function write(store, key, value) {
    try {
      if (store && value) {
        store.setItem(key, value);
      } else if (store) {
        store.removeItem(key);
      }
    } catch (error) {
      // kept in memory only
    }
  }

  function remembered(store, key) {
    var value = read(store, key);
    if (!value) {
      value = uuid();
      write(store, key, value);
    }
    return value;
  }

  var methods = {trackQuery: trackQuery, trackEvent: trackEvent, setQueryId: setQueryId, flush: flush};

  /** ubi("trackEvent", event): the queue's form of the methods, which stays valid once the script has loaded. */
  function ubi(name) {
    if (!Object.prototype.hasOwnProperty.call(methods, name)) {
      console.warn("ubi.js: unknown command " + JSON.stringify(name));
      return undefined;
    }
    return methods[name].apply(null, Array.prototype.slice.call(arguments, 1));
  }

  Object.assign(ubi, methods, {loaded: true});
  Object.defineProperties(ubi, {
    clientId: {get: function () { return clientId; }},
    sessionId: {get: function () { return sessionId; }},
    queryId: {get: function () { return queryId; }},
  });

  if (!collectorUrl) {
    console.error("ubi.js: the script tag has no data-collector-url; nothing will be sent");
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      flushBeacons();
    }
  });
  window.addEventListener("pagehide", flushBeacons);

  window.ubi = ubi;
  var queued = (existing && existing.q) || [];
  queued.forEach(function (call) {
    ubi.apply(null, call);
  });
})();

// Calls to gridd's HTTP API. Errors come back as RFC 9457 problem+json;
// ApiError keeps the status so panels can tell "not allowed" from "broken".

const keyStorage = 'gridd.apiKey';

export class ApiError extends Error {
  constructor(status, title, detail, url) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
    this.url = url;
  }
}

export class Api {
  constructor(origin) {
    this.origin = origin;
    this.key = '';
    try {
      this.key = window.localStorage.getItem(keyStorage) || '';
    } catch {
      // Storage may be off (private mode): the key then lasts the page.
    }
    this.onUnauthorized = null;
  }

  setKey(key) {
    this.key = key;
    try {
      if (key) window.localStorage.setItem(keyStorage, key);
      else window.localStorage.removeItem(keyStorage);
    } catch {
      // See the constructor.
    }
  }

  headers() {
    return this.key ? { Authorization: 'Bearer ' + this.key } : {};
  }

  url(path, params) {
    const u = new URL(path, this.origin);
    if (params) {
      for (const [k, v] of Object.entries(params)) {
        if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
      }
    }
    return u.toString();
  }

  // get fetches JSON; signal aborts a request that a newer one replaced.
  async get(path, params, { signal, accept } = {}) {
    const url = this.url(path, params);
    const headers = { Accept: accept || 'application/json, application/geo+json;q=0.9, */*;q=0.1', ...this.headers() };
    const res = await fetch(url, { headers, signal });
    if (res.status === 401 && this.onUnauthorized) this.onUnauthorized();
    if (!res.ok) {
      let title = res.statusText;
      let detail = '';
      try {
        const p = await res.json();
        title = p.title || title;
        detail = p.detail || '';
      } catch {
        // Not problem+json: the status says enough.
      }
      throw new ApiError(res.status, title, detail, url);
    }
    if (res.status === 204) return null;
    return res.json();
  }

  async post(path, body, contentType) {
    const url = this.url(path);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': contentType || 'application/json', ...this.headers() },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    if (!res.ok) {
      let p = {};
      try {
        p = await res.json();
      } catch {
        // See get.
      }
      throw new ApiError(res.status, p.title || res.statusText, p.detail || '', url);
    }
    return res.json();
  }

  // transformRequest adds the key to the map's tile and TileJSON requests
  // to this server, and only to those.
  transformRequest() {
    return (url) => {
      if (this.key && url.startsWith(this.origin)) {
        return { url, headers: this.headers() };
      }
      return { url };
    };
  }
}

// listOf finds the array of records in an answer whatever its envelope:
// a bare array, a GeoJSON FeatureCollection (the features' properties,
// with the geometry kept under _geometry), or the first array member of
// an object.
export function listOf(doc, ...names) {
  if (!doc) return [];
  if (Array.isArray(doc)) return doc;
  if (doc.type === 'FeatureCollection' && Array.isArray(doc.features)) {
    return doc.features.map((f) => ({ ...(f.properties || {}), _geometry: f.geometry, _id: f.id }));
  }
  for (const n of names) {
    const v = doc[n];
    if (Array.isArray(v)) return v;
    if (v && v.type === 'FeatureCollection') return listOf(v);
  }
  for (const v of Object.values(doc)) {
    if (Array.isArray(v) && (v.length === 0 || typeof v[0] === 'object')) return v;
  }
  return [];
}

// featuresOf finds a GeoJSON FeatureCollection's features in an answer.
export function featuresOf(doc, ...names) {
  if (!doc) return [];
  if (doc.type === 'FeatureCollection') return doc.features || [];
  for (const n of names) {
    const v = doc[n];
    if (v && v.type === 'FeatureCollection') return v.features || [];
    if (Array.isArray(v) && v.length && v[0] && v[0].type === 'Feature') return v;
  }
  return [];
}

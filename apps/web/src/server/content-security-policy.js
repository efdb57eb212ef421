// Plain JavaScript (typed by the .d.ts beside it) so that next.config.js can import it as well as proxy.ts.

/**
 * The one Content-Security-Policy of the app. Everything from this origin only; no plugins, no framing
 * (frame-ancestors 'none'), no <base> or form posts elsewhere.
 *
 * - Scripts: pages get a fresh nonce per request (proxy.ts); Next reads it from the request's CSP header
 *   and puts it on its own inline bootstrap and chunk scripts, and 'strict-dynamic' lets those load the
 *   rest of the bundle. No 'unsafe-inline', no eval ('unsafe-eval' only for the dev server, which needs
 *   it). 'self' stays as the fallback for browsers without 'strict-dynamic' (newer ones ignore it then).
 *   Responses that are not pages (API answers, static chunks such as the decoder worker) get the same
 *   policy without a nonce: nothing inline runs there.
 * - 'wasm-unsafe-eval': onnxruntime-web compiles WebAssembly in the decoder worker and ORT's threads.
 * - worker-src 'self': the decoder worker and ORT's thread workers are same-origin scripts (/ort/ is
 *   served by the app; ORT wraps its script in a blob: URL only when it comes from another origin).
 * - Styles: inline style *attributes* are needed (React `style={...}` props rendered on the server);
 *   <style> elements are allowed only from this origin or with the nonce. style-src keeps
 *   'unsafe-inline' only as the fallback for browsers without style-src-attr/-elem.
 *
 * @param {{ nonce?: string | undefined; dev?: boolean }} [options]
 * @returns {string}
 */
export function contentSecurityPolicy({ nonce, dev = false } = {}) {
  const nonceSource = nonce ? ` 'nonce-${nonce}' 'strict-dynamic'` : "";
  return [
    "default-src 'self'",
    `script-src 'self'${nonceSource} 'wasm-unsafe-eval'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    `style-src-elem 'self'${nonce ? ` 'nonce-${nonce}'` : ""}`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** A nonce for one response: 128 random bits, base64 (the form CSP's nonce-source accepts). */
export function newNonce() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

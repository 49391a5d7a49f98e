/**
 * The uWebSockets.js package croupier installs falls back, silently apart from a console line, to a slow
 * pure-JS server when its native binary does not load. The gateway refuses to run on that fallback.
 */
import { CroupierError } from '../errors/index.ts';

/** Throws CROUPIER_ERR_GATEWAY_NATIVE_MISSING unless `uws.App` is the native binding. */
export function assertNativeUws(uws: { App: unknown }): void {
  const source = typeof uws.App === 'function' ? Function.prototype.toString.call(uws.App) : '';
  if (source.includes('[native code]')) return;
  const forced = ['1', 'true', 'True', 'TRUE'].includes(process.env.UWS_USE_FALLBACK ?? '');
  const why = forced
    ? 'UWS_USE_FALLBACK is set, which selects the pure-JS fallback: unset it'
    : `no native binary loaded for ${process.platform}-${process.arch} with Node.js ABI ${process.versions.modules}: ` +
      'use a Node.js version the uWebSockets.js package ships a binary for (see node_modules/uWebSockets.js/binaries)';
  throw new CroupierError(
    'CROUPIER_ERR_GATEWAY_NATIVE_MISSING',
    `uWebSockets.js is running its slow pure-JS fallback, so the gateway refuses to start (${why})`,
    { platform: process.platform, arch: process.arch, abi: process.versions.modules, forced },
  );
}

// Works around a bug in libp2p-webrtc-websys 0.5 (the browser's WebRTC-direct
// transport): when it drops a stream it frees the Rust closures behind the data
// channel's event handlers but leaves them attached, so an event that still
// arrives for that channel (the Noise handshake channel's closing flag, once per
// connection) throws "closure invoked recursively or after being dropped" as an
// uncaught error. Nothing reads that stream any more, so the event is dropped
// here and noted at debug level; any other error from a handler is rethrown.
// Remove this file once the transport detaches its handlers on drop.
(() => {
  const DROPPED = "closure invoked recursively or after being dropped";
  for (const name of ["onmessage", "onopen", "onclose", "onbufferedamountlow"]) {
    const native = Object.getOwnPropertyDescriptor(RTCDataChannel.prototype, name);
    if (!native?.set) continue;
    Object.defineProperty(RTCDataChannel.prototype, name, {
      configurable: true,
      enumerable: native.enumerable,
      get() {
        return native.get.call(this);
      },
      set(handler) {
        const guarded =
          typeof handler === "function"
            ? function (event) {
                try {
                  return handler.call(this, event);
                } catch (error) {
                  if (!String(error?.message).includes(DROPPED)) throw error;
                  console.debug(`WebRTC: ${event.type} for a stream already closed, ignored`);
                }
              }
            : handler;
        native.set.call(this, guarded);
      },
    });
  }
})();

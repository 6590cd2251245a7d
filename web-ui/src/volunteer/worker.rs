//! One proving Web Worker (`www/prover-worker.js`, which loads the prover
//! module `starling_prover.js`), driven from Rust: a job's bytes go in, the
//! worker's phases come back as they happen, then the proof or the reason it
//! failed. The worker proves on its own thread, so the page stays responsive
//! and can renew the lease meanwhile.

use std::cell::RefCell;
use std::rc::Rc;

use crate::client::js_text;
use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker, WorkerOptions, WorkerType};

/// The worker script, next to the page.
const SCRIPT: &str = "prover-worker.js";

/// What the worker reported.
pub enum Report {
    /// The worker took the job (the prover module is loaded).
    Started,
    /// The block re-executed on its witness; proving has begun.
    Recorded,
    /// The proof's bytes, and how long proving alone took.
    Proved { proof: Vec<u8>, prove_ms: f64 },
    /// Why the job (or the worker itself) failed.
    Failed(String),
}

/// A proving worker and the channel its messages arrive on.
pub struct ProverWorker {
    worker: Worker,
    reports: UnboundedReceiver<Report>,
    next_id: u32,
    /// The handlers the browser calls, kept alive as long as the worker.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl ProverWorker {
    /// Starts a worker. The prover module loads on its first job.
    pub fn spawn() -> Result<Self, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options(SCRIPT, &options).map_err(js_text)?;
        let (sender, reports) = unbounded();
        let sender = Rc::new(RefCell::new(sender));
        let on_message = {
            let sender = sender.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                if let Some(report) = report_of(&event.data()) {
                    send(&sender, report);
                }
            })
        };
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            event.prevent_default();
            send(&sender, Report::Failed(format!("the prover worker failed: {}", event.message())));
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Self { worker, reports, next_id: 0, _on_message: on_message, _on_error: on_error })
    }

    /// Hands the worker a job: the proving input's bytes and the hex address
    /// the proof is bound to (where its reward goes).
    pub fn start(&mut self, input: &[u8], prover: &str) -> Result<(), String> {
        self.next_id += 1;
        let request = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| Reflect::set(&request, &key.into(), value);
        set("id", &self.next_id.into()).map_err(js_text)?;
        set("input", &Uint8Array::from(input).into()).map_err(js_text)?;
        set("prover", &prover.into()).map_err(js_text)?;
        self.worker.post_message(&request).map_err(js_text)
    }

    /// The worker's next report on the current job.
    pub async fn next(&mut self) -> Report {
        let gone = || Report::Failed("the prover worker is gone".to_owned());
        self.reports.next().await.unwrap_or_else(gone)
    }
}

impl Drop for ProverWorker {
    /// Stops the worker mid-proof if need be: its thread and memory are freed.
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

fn send(sender: &Rc<RefCell<UnboundedSender<Report>>>, report: Report) {
    // A closed channel means the worker's owner is gone; nothing to tell.
    let _ = sender.borrow_mut().unbounded_send(report);
}

/// Reads one of the worker's messages (see `www/prover-worker.js`).
fn report_of(data: &JsValue) -> Option<Report> {
    let field = |key: &str| Reflect::get(data, &key.into()).ok().filter(|v| !v.is_undefined());
    if let Some(error) = field("error") {
        return Some(Report::Failed(error.as_string().unwrap_or_else(|| "unknown error".into())));
    }
    match field("phase")?.as_string()?.as_str() {
        "started" => Some(Report::Started),
        "recorded" => Some(Report::Recorded),
        "proved" => {
            let proof = field("proof")?.dyn_into::<Uint8Array>().ok()?.to_vec();
            let prove_ms = field("prove_ms").and_then(|v| v.as_f64()).unwrap_or(0.0);
            Some(Report::Proved { proof, prove_ms })
        }
        _ => None,
    }
}

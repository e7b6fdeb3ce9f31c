/** `glimpse bench`: training and inference clips/s on this machine, beside the PyTorch peer run by the same command. */
import { BACKEND_NAMES, chooseBackend, parseBackendName } from '../../model/backend.ts';
import {
  BENCH_SHAPE_NAMES,
  BENCH_SHAPES,
  type BenchFigure,
  type BenchShape,
  type EvaluationFigure,
  flopsPerClip,
  runBenchmark,
  runEvaluationBenchmark,
} from '../../model/benchmark.ts';
import { defaultWorkerCount } from '../../model/parallel/pool.ts';
import {
  blasName,
  defaultPython,
  MIN_PEER_SGEMM_GFLOPS,
  type PeerFigures,
  peerRatioRefusal,
  runTorchPeer,
} from '../bench/torch-peer.ts';
import { type BackendFigures, benchOtherBackend } from '../bench/compare-backend.ts';
import { type ConvergenceFigure, convergenceSetup, runConvergence } from '../bench/convergence.ts';
import { PARAM_INITS } from '../../common/options.ts';
import { benchExtraction, type ExtractionBenchResult } from '../features/bench.ts';
import { haveRedisServer } from '../bench/local-queue.ts';
import { benchQueue, QUEUE_BENCH_VIDEOS, type QueueBenchResult } from '../bench/queue.ts';
import { choiceFlag, type Command, intFlag, parseFlags, UsageError } from './command.ts';

const CONVERGENCE_TARGET = 0.9;
const CONVERGENCE_EPOCHS = 60;
const CONVERGENCE_SEED = 1;

const usage = `glimpse bench [options]

Times a full training step (forward, loss, gradients, optimiser update) and an inference pass on synthetic
features held in memory, at the UCF-11 shape by default, then runs the PyTorch peer (main/bench/attention_lstm_peer.py,
needs python3-torch) at the same shape and prints both with their ratio. Figures are medians after a warm-up.
The peer also measures its sgemm rate and names its BLAS; no ratio is given against a peer below
${MIN_PEER_SGEMM_GFLOPS} GFLOP/s (an unoptimised BLAS). GFLOP/s counts the matrix products of a step, and "of peak"
divides it by the fastest sgemm the peer measured (the machine's matrix units, as far as this bench knows them).

  --shape S          ucf11 (T=30, L=49, D=1024, dim 512, C=11) | small (a quick smoke run)   (default ucf11)
  --batch N          clips per batch (default 16)
  --iters N          timed iterations after one warm-up (default 3)
  --backend B        ${BACKEND_NAMES.join(' | ')} (default: the fastest that loads)
  --workers N        worker threads, each running part of the batch (default: min(2, cores))
  --compare B        also our train/infer figures on backend B, run in a child process (default wasm,
                     unless that is the backend chosen)
  --no-compare       skip that
  --no-evaluate      skip the evaluation figures (evaluateSplit over a split written at this shape, in one
                     thread and on the worker pool)
  --no-convergence   skip the convergence figures: epochs until the validation accuracy (video level, held-out
                     split) first reaches ${CONVERGENCE_TARGET * 100}% on the signal test bed (main/bench/signal-set.ts: only
                     attention reveals the class), with --init reference and --init glorot, a small model
                     (dim 32) trained as \`glimpse train\` does, one thread
  --convergence-epochs N  the epoch cap of each of those runs (default ${CONVERGENCE_EPOCHS})
  --no-peer          skip the PyTorch peer
  --peer-threads L   comma-separated torch thread counts to run the peer with (default 1,2); the ratio is
                     against the fastest
  --python P         interpreter for the peer (default /usr/bin/python3)
  --no-extract       skip the extraction figures (frames/s end to end and decoding alone, built-in backbone
                     on a generated synthetic set)
  --no-queue         skip the queue figures (also skipped when redis-server is not on PATH): extraction
                     frames/s of a synthetic set through a local Redis with 1, then 2 'glimpse worker'
                     processes (built-in backbone), their ratio, and the queue's overhead per job (time with
                     1 worker minus the same extraction without a queue, over the jobs)
  --queue-videos N   videos per class of that set (4 classes, 150 frames each; default ${QUEUE_BENCH_VIDEOS})
  --ui               also the UI figures (headless chromium against browser mode, see main/bench/ui.ts):
                     overlay playback frames/s at 640×480, deep link → first frame with its attention
                     (cached and new video), input latency while a training job runs
  --json             one JSON object per line instead of a table
`;

const FLAGS = {
  shape: { type: 'string' },
  batch: { type: 'string' },
  iters: { type: 'string' },
  backend: { type: 'string' },
  workers: { type: 'string' },
  compare: { type: 'string' },
  'no-compare': { type: 'boolean' },
  'no-evaluate': { type: 'boolean' },
  'no-peer': { type: 'boolean' },
  'no-extract': { type: 'boolean' },
  'no-convergence': { type: 'boolean' },
  'no-queue': { type: 'boolean' },
  'queue-videos': { type: 'string' },
  'convergence-epochs': { type: 'string' },
  'peer-threads': { type: 'string' },
  python: { type: 'string' },
  ui: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function threadList(value: string | undefined): number[] {
  if (value === undefined) return [1, 2];
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new UsageError(`--peer-threads must be a comma-separated list of integers ≥ 1, got '${value}'`);
  }
  return list;
}

interface PeerOutcome {
  threads: number;
  figures?: PeerFigures;
  error?: string;
}

function peerClipsPerS(p: PeerFigures, name: BenchFigure['name']): number {
  return name === 'train' ? p.trainClipsPerS : p.inferClipsPerS;
}

function peerMsPerBatch(p: PeerFigures, name: BenchFigure['name']): number {
  return name === 'train' ? p.trainMsPerBatch : p.inferMsPerBatch;
}

function comparedClipsPerS(c: BackendFigures, name: BenchFigure['name']): number {
  return name === 'train' ? c.trainClipsPerS : c.inferClipsPerS;
}

function peerRuns(peers: PeerOutcome[]): PeerFigures[] {
  return peers.flatMap((p) => (p.figures ? [p.figures] : []));
}

function bestPeer(peers: PeerOutcome[], name: BenchFigure['name']): number | null {
  const rates = peerRuns(peers).map((p) => peerClipsPerS(p, name));
  return rates.length > 0 ? Math.max(...rates) : null;
}

/** The fastest sgemm any peer run measured, GFLOP/s: the machine's matrix peak as far as the bench knows it. */
function sgemmPeak(peers: PeerOutcome[] | null): number | null {
  const rates = peerRuns(peers ?? []).map((p) => p.sgemmGflops);
  return rates.length > 0 ? Math.max(...rates) : null;
}

/** The ratio against the best peer run, or null when there is none or it is refused. */
function ratio(r: Report, f: BenchFigure): number | null {
  const best = r.peers ? bestPeer(r.peers, f.name) : null;
  return best && !r.refusal ? f.clipsPerS / best : null;
}

function gflopsPerS(r: Report, name: BenchFigure['name'], clipsPerS: number): number {
  return (clipsPerS * flopsPerClip(r.shape)[name]) / 1e9;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Four significant digits: FLOP rates span the small smoke shape to the UCF-11 one. */
function significant(n: number): number {
  return Number(n.toPrecision(4));
}

interface Report {
  backend: string;
  workers: number;
  shape: BenchShape;
  batch: number;
  iters: number;
  figures: BenchFigure[];
  peers: PeerOutcome[] | null;
  /** Why no ratio is reported against the peer (see peerRatioRefusal); null when one is, or no peer ran. */
  refusal: string | null;
  /** Our figures on a second backend, or why they are missing. */
  compared: { figures?: BackendFigures; backend: string; error?: string } | null;
  evaluation: EvaluationFigure[] | null;
  extraction: ExtractionBenchResult | null;
  convergence: { figures: ConvergenceFigure[]; maxEpochs: number } | null;
  /** The queue's figures, or why they were skipped. */
  queue: { figures?: QueueBenchResult; skipped?: string } | null;
}

function queueJson(q: QueueBenchResult): string {
  return JSON.stringify({
    name: 'queue-extract',
    backend: q.backend,
    backbone: q.backbone,
    videos: q.videos,
    frames: q.frames,
    jobs: q.jobs,
    videos_per_job: q.videosPerJob,
    local_frames_per_s: round(q.local.framesPerS, 1),
    workers: q.runs.map((r) => ({
      workers: r.workers,
      frames_per_s: round(r.framesPerS, 1),
      seconds: round(r.seconds, 2),
    })),
    scaling_2_over_1: round(q.scaling, 3),
    overhead_per_job_ms: round(q.overheadPerJobMs, 1),
    load_avg_1min: { before: round(q.load.before, 2), after: round(q.load.after, 2) },
  });
}

function queueLines(q: Report['queue']): string {
  if (!q) return '';
  if (!q.figures) return `queue: skipped (${q.skipped})\n`;
  const f = q.figures;
  const runs = f.runs.map(
    (r) => `${r.workers} worker${r.workers === 1 ? '' : 's'} ${r.framesPerS.toFixed(1)}`,
  );
  return (
    `queue (${f.backbone}, ${f.videos} videos, ${f.frames} frames, ${f.jobs} jobs of ${f.videosPerJob} videos): ` +
    `${runs.join(', ')} frames/s (${f.scaling.toFixed(2)}× with 2), no queue ${f.local.framesPerS.toFixed(1)}; ` +
    `overhead ${f.overheadPerJobMs.toFixed(0)} ms per job; load ${f.load.before.toFixed(1)} → ${f.load.after.toFixed(1)}\n`
  );
}

function convergenceJson(r: Report, f: ConvergenceFigure, maxEpochs: number): string {
  return JSON.stringify({
    name: 'convergence',
    backend: r.backend,
    init: f.init,
    metric: 'validation accuracy (video level)',
    target: CONVERGENCE_TARGET,
    epochs_to_target: f.epochsToTarget,
    max_epochs: maxEpochs,
    valid_accuracy: f.validAccuracy.map((a) => round(a, 4)),
    train_loss: f.trainLoss.map((l) => significant(l)),
    seconds: round(f.seconds, 1),
    setup: { ...convergenceSetup(), seed: CONVERGENCE_SEED },
  });
}

function convergenceLines(c: NonNullable<Report['convergence']>): string {
  const s = convergenceSetup();
  const head =
    `convergence: epochs to ${CONVERGENCE_TARGET * 100}% validation accuracy (video level) on the signal test bed ` +
    `(L=${s.locations} D=${s.ctx} C=${s.classes}, ${s.train_videos} train / ${s.valid_videos} valid videos of ` +
    `${s.frames_per_video} frames; dim ${s.dim}, dim_out ${s.dim_out}, ${s.dropout ? 'dropout' : 'no dropout'}, ` +
    `maxlen ${s.maxlen}, stride ${s.training_stride}, batch ${s.batch}, ${s.optimizer}, seed ${CONVERGENCE_SEED})\n`;
  const lines = c.figures.map((f) => {
    const best = Math.max(0, ...f.validAccuracy);
    const reached =
      f.epochsToTarget === null
        ? `not reached in ${c.maxEpochs} epochs (best ${(best * 100).toFixed(1)}%)`
        : `epoch ${f.epochsToTarget}`;
    return `  --init ${f.init.padEnd(9)} ${reached}, ${f.seconds.toFixed(0)} s\n`;
  });
  return head + lines.join('');
}

function extractionJson(r: Report, e: ExtractionBenchResult): string {
  return JSON.stringify({
    name: 'extract',
    backend: r.backend,
    backbone: e.backbone,
    shape: { input: e.input.size, K: e.input.K, D: e.input.D },
    frames: e.frames,
    frames_per_s: round(e.framesPerS, 1),
    decode_frames_per_s: round(e.decodeFramesPerS, 1),
    cnn_frames_per_s: round(e.cnnFramesPerS, 1),
    decode_to_end_ratio: round(e.ratio, 3),
  });
}

function extractionLine(e: ExtractionBenchResult): string {
  return (
    `extract (${e.backbone}, ${e.input.size}×${e.input.size} → ${e.input.K}×${e.input.K}×${e.input.D}): ` +
    `${e.framesPerS.toFixed(1)} frames/s end to end, decoding alone ${e.decodeFramesPerS.toFixed(1)}, ` +
    `CNN alone ${e.cnnFramesPerS.toFixed(1)}; decode/end-to-end ${e.ratio.toFixed(2)}\n`
  );
}

function evaluationJson(r: Report, e: EvaluationFigure): string {
  const single = r.evaluation?.find((f) => f.workers === 1);
  return JSON.stringify({
    name: 'evaluate',
    backend: r.backend,
    workers: e.workers,
    clips: e.clips,
    clips_per_s: round(e.clipsPerS, 3),
    vs_one_thread: single ? round(e.clipsPerS / single.clipsPerS, 3) : null,
  });
}

function evaluationLine(r: Report): string {
  if (!r.evaluation) return '';
  const single = r.evaluation.find((f) => f.workers === 1);
  const parts = r.evaluation.map(
    (e) =>
      `${e.workers === 1 ? 'one thread' : `${e.workers} workers`} ${e.clipsPerS.toFixed(2)} clips/s` +
      (single && e !== single ? ` (${(e.clipsPerS / single.clipsPerS).toFixed(2)}×)` : ''),
  );
  return `evaluate (${r.evaluation[0]?.clips ?? 0} clips, stride 1): ${parts.join(', ')}\n`;
}

function jsonLines(r: Report): string {
  const shape = {
    steps: r.shape.steps,
    batch: r.batch,
    locations: r.shape.locations,
    ctx: r.shape.ctx,
    dim: r.shape.dim,
    dim_out: r.shape.dimOut,
    classes: r.shape.classes,
  };
  return r.figures
    .map((f) => {
      const best = r.peers ? bestPeer(r.peers, f.name) : null;
      const peak = sgemmPeak(r.peers);
      const ours = gflopsPerS(r, f.name, f.clipsPerS);
      const q = ratio(r, f);
      return JSON.stringify({
        name: f.name,
        backend: r.backend,
        workers: r.workers,
        shape,
        clips_per_s: round(f.clipsPerS, 3),
        ms_per_batch: round(f.msPerBatch, 1),
        cpu_ms_per_batch: round(f.cpuMsPerBatch, 1),
        iters: r.iters,
        times_ms: f.timesMs.map((t) => round(t, 1)),
        gflop_per_clip: round(flopsPerClip(r.shape)[f.name] / 1e9, 3),
        gflops_per_s: significant(ours),
        sgemm_peak_gflops: peak,
        of_peak: peak ? round(ours / peak, 3) : null,
        peer:
          r.peers?.map((p) =>
            p.figures
              ? {
                  peer: p.figures.peer,
                  torch: p.figures.torch,
                  threads: p.figures.threads,
                  clips_per_s: peerClipsPerS(p.figures, f.name),
                  ms_per_batch: peerMsPerBatch(p.figures, f.name),
                  gflops_per_s: significant(gflopsPerS(r, f.name, peerClipsPerS(p.figures, f.name))),
                  sgemm_gflops: p.figures.sgemmGflops,
                  blas: blasName(p.figures),
                }
              : { peer: 'pytorch-cpu', threads: p.threads, error: p.error },
          ) ?? null,
        peer_best_clips_per_s: best,
        compared: r.compared
          ? {
              backend: r.compared.backend,
              clips_per_s: r.compared.figures ? comparedClipsPerS(r.compared.figures, f.name) : null,
              error: r.compared.error ?? null,
            }
          : null,
        ratio: q === null ? null : significant(q),
        ratio_refused: r.refusal,
      });
    })
    .join('\n');
}

function table(r: Report): string {
  const s = r.shape;
  const peak = sgemmPeak(r.peers);
  const lines = [
    `shape: T=${s.steps} B=${r.batch} L=${s.locations} D=${s.ctx} dim=${s.dim} dim_out=${s.dimOut} C=${s.classes}`,
    `ours: backend ${r.backend}, ${r.workers} worker${r.workers === 1 ? '' : 's'}, median of ${r.iters} after a warm-up`,
  ];
  const peerCols = (r.peers ?? []).map((p) => `torch ${p.threads} thr`);
  const other = r.compared?.figures;
  const header = ['', 'ours clips/s', 'ours GFLOP/s', ...(peak ? ['of peak'] : [])];
  if (other) header.push(`${other.backend} clips/s`);
  header.push(...peerCols);
  if (r.peers) header.push('ours/best');
  lines.push(header.map((c, i) => (i === 0 ? c.padEnd(6) : c.padStart(14))).join(''));
  for (const f of r.figures) {
    const ours = gflopsPerS(r, f.name, f.clipsPerS);
    const cells = [f.name.padEnd(6), f.clipsPerS.toFixed(2), ours.toFixed(1)];
    if (peak) cells.push(`${((100 * ours) / peak).toFixed(0)}%`);
    if (other) cells.push(comparedClipsPerS(other, f.name).toFixed(2));
    for (const p of r.peers ?? [])
      cells.push(p.figures ? peerClipsPerS(p.figures, f.name).toFixed(2) : 'n/a');
    if (r.peers) {
      const q = ratio(r, f);
      cells.push(q === null ? (r.refusal ? 'refused' : 'n/a') : `${q.toFixed(2)}×`);
    }
    lines.push(cells.map((c, i) => (i === 0 ? c : c.padStart(14))).join(''));
  }
  if (r.compared?.error) lines.push(`ours on ${r.compared.backend} unavailable: ${r.compared.error}`);
  for (const p of r.peers ?? []) {
    const fig = p.figures;
    if (!fig) {
      lines.push(`peer (${p.threads} threads) unavailable: ${p.error}`);
      continue;
    }
    const g = (name: BenchFigure['name']): string => gflopsPerS(r, name, peerClipsPerS(fig, name)).toFixed(1);
    lines.push(
      `peer (${p.threads} thread${p.threads === 1 ? '' : 's'}): torch ${fig.torch}, BLAS ${blasName(fig)}, ` +
        `sgemm 1024² ${fig.sgemmGflops.toFixed(1)} GFLOP/s; train ${g('train')}, infer ${g('infer')} GFLOP/s`,
    );
  }
  if (r.refusal) lines.push(r.refusal);
  return lines.join('\n') + '\n';
}

async function run(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) {
    process.stdout.write(usage);
    return 0;
  }
  const shapeName = choiceFlag(v.shape, 'shape', BENCH_SHAPE_NAMES, 'ucf11');
  const shape = BENCH_SHAPES[shapeName];
  const batch = intFlag(v.batch, 'batch', 16);
  const iters = intFlag(v.iters, 'iters', 3);
  const workers = Math.min(batch, intFlag(v.workers, 'workers', defaultWorkerCount(batch)));
  const peerThreads = v['no-peer'] ? [] : threadList(v['peer-threads']);
  const python = v.python ?? defaultPython();
  const maxEpochs = intFlag(v['convergence-epochs'], 'convergence-epochs', CONVERGENCE_EPOCHS);
  const queueVideos = intFlag(v['queue-videos'], 'queue-videos', QUEUE_BENCH_VIDEOS);

  const compareWith = v.compare === undefined ? undefined : parseBackendName(v.compare, '--compare');

  const backend = await chooseBackend(v.backend);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  log(`bench: ${shapeName}, batch ${batch}, backend ${backend.name}, ${workers} worker(s)`);
  const figures = await runBenchmark({ shape, batch, iters, workers, backend: backend.name }, (f) =>
    log(
      `  ${f.name}: ${f.clipsPerS.toFixed(2)} clips/s (${f.msPerBatch.toFixed(0)} ms per batch, ` +
        `${f.cpuMsPerBatch.toFixed(0)} ms CPU)`,
    ),
  );

  let compared: Report['compared'] = null;
  const other = v['no-compare'] ? null : (compareWith ?? (backend.name === 'wasm' ? null : 'wasm'));
  if (other) {
    log(`  ours on ${other} (child process)…`);
    try {
      const figures = await benchOtherBackend({ backend: other, shape: shapeName, batch, iters, workers });
      compared = { backend: other, figures };
    } catch (err) {
      compared = { backend: other, error: err instanceof Error ? err.message.split('\n')[0] : String(err) };
    }
  }
  let evaluation: EvaluationFigure[] | null = null;
  if (!v['no-evaluate']) {
    log('  evaluation (evaluateSplit over a split on disk), one thread and the pool…');
    evaluation = await runEvaluationBenchmark({ shape, batch, workers, backend: backend.name });
  }

  let convergence: Report['convergence'] = null;
  if (!v['no-convergence']) {
    log(
      `  convergence on the signal test bed, --init ${PARAM_INITS.join(' and ')}, up to ${maxEpochs} epochs each…`,
    );
    const figures = await runConvergence({
      inits: PARAM_INITS,
      target: CONVERGENCE_TARGET,
      maxEpochs,
      seed: CONVERGENCE_SEED,
      backendName: backend.name,
      onEpoch: (init, epoch, accuracy) =>
        log(`    ${init} epoch ${epoch}: validation ${(accuracy * 100).toFixed(1)}%`),
    });
    convergence = { figures, maxEpochs };
  }

  let peers: PeerOutcome[] | null = null;
  if (peerThreads.length > 0) {
    peers = [];
    for (const threads of peerThreads) {
      log(`  pytorch peer, ${threads} thread(s)…`);
      try {
        const figures = await runTorchPeer({ python, shape, batch, iters, threads });
        peers.push({ threads, figures });
      } catch (err) {
        peers.push({ threads, error: err instanceof Error ? err.message.split('\n')[0] : String(err) });
      }
    }
  }
  let extraction: ExtractionBenchResult | null = null;
  if (!v['no-extract']) {
    log('  extraction (built-in backbone, synthetic videos)…');
    extraction = await benchExtraction();
  }
  let queue: Report['queue'] = null;
  if (!v['no-queue']) {
    if (!haveRedisServer()) {
      queue = { skipped: 'redis-server is not on PATH' };
    } else {
      log('  queue (local redis-server, 1 then 2 glimpse workers, synthetic videos)…');
      queue = {
        figures: await benchQueue({ backendName: backend.name, videosPerClass: queueVideos, log }),
      };
    }
  }
  let ui: { json: string; text: string }[] = [];
  if (v.ui) {
    log('  UI (headless chromium, browser mode)…');
    // playwright-core is a devDependency: loaded only when asked for.
    const { benchUi, describeUiFigure } = await import('../bench/ui.ts');
    ui = (await benchUi({ log })).map((f) => ({ json: JSON.stringify(f), text: describeUiFigure(f) }));
  }
  const refusal = peers ? peerRatioRefusal(peerRuns(peers)) : null;
  const report: Report = {
    backend: backend.name,
    workers,
    shape,
    batch,
    iters,
    figures,
    peers,
    refusal,
    compared,
    evaluation,
    extraction,
    convergence,
    queue,
  };
  if (v.json) {
    process.stdout.write(`${jsonLines(report)}\n`);
    for (const e of evaluation ?? []) process.stdout.write(`${evaluationJson(report, e)}\n`);
    for (const f of convergence?.figures ?? [])
      process.stdout.write(`${convergenceJson(report, f, convergence?.maxEpochs ?? 0)}\n`);
    if (extraction) process.stdout.write(`${extractionJson(report, extraction)}\n`);
    if (queue?.figures) process.stdout.write(`${queueJson(queue.figures)}\n`);
    for (const f of ui) process.stdout.write(`${f.json}\n`);
  } else {
    process.stdout.write(
      table(report) +
        evaluationLine(report) +
        (convergence ? convergenceLines(convergence) : '') +
        (extraction ? extractionLine(extraction) : '') +
        queueLines(queue),
    );
    for (const f of ui) process.stdout.write(`${f.text}\n`);
  }
  return 0;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'training and inference clips/s here, beside the PyTorch peer',
  usage,
  run,
};

/**
 * Frame identity for a playback proxy (DESIGN.md): picture n has timestamp n / fps. To show frame n
 * we seek to (n + 0.5) / fps; the frame on screen is read from requestVideoFrameCallback's
 * metadata.mediaTime (n = round(mediaTime · fps)), never from currentTime. One callback per presented
 * frame, while playing and after every seek.
 */
export interface FramePlayerEvents {
  /** The frame now on screen. */
  frame(n: number): void;
  /** True from a seek until its frame is on screen. */
  busy(seeking: boolean): void;
  playing(on: boolean): void;
}

/**
 * How long after `seeked` a seek may take to present its frame before it is issued again: doubling per
 * retry up to the last, so that a slow decoder on a busy machine is not restarted before it can finish.
 */
const SETTLE_MS = [1000, 2000, 4000];
/** A seek whose `seeked` never comes is checked after this long. */
const WATCHDOG_MS = 5000;
/** Where in the target frame's interval the retries seek (the first seek goes to its middle). */
const RETRY_OFFSETS = [0.25, 0.75, 0.5, 0.35, 0.65, 0.5, 0.25, 0.75];

export class FramePlayer {
  readonly #video: HTMLVideoElement;
  readonly #fps: number;
  readonly #frames: number;
  readonly #events: FramePlayerEvents;
  #shown = -1;
  #target: number | null = null;
  #callback = 0;
  #closed = false;
  #settle: ReturnType<typeof setTimeout> | undefined;
  /** Retries of the current seek. */
  #tries = 0;

  constructor(video: HTMLVideoElement, fps: number, frames: number, events: FramePlayerEvents) {
    this.#video = video;
    this.#fps = fps;
    this.#frames = frames;
    this.#events = events;
    this.#watch();
    video.addEventListener('play', this.#onPlay);
    video.addEventListener('pause', this.#onPause);
    video.addEventListener('ended', this.#onPause);
    video.addEventListener('seeked', this.#onSeeked);
    video.addEventListener('loadeddata', this.#onLoaded);
  }

  #onPlay = () => this.#events.playing(true);
  // A seek usually presents its frame in a callback soon after `seeked`. One that presents none (a busy
  // decoder, a seek issued before the first frame, a target already on screen) is checked after a while
  // and issued again at another time inside the same frame; only the callbacks say which frame is shown.
  #onSeeked = () => {
    clearTimeout(this.#settle);
    if (this.#target === null) return;
    this.#settle = setTimeout(this.#recheck, this.#delay());
  };
  #delay = () => SETTLE_MS[Math.min(this.#tries, SETTLE_MS.length - 1)];
  #recheck = () => {
    if (this.#target === null || this.#closed) return;
    if (this.#shown !== this.#target && this.#video.seeking) {
      // Still decoding: wait for it rather than restart it.
      this.#settle = setTimeout(this.#recheck, this.#delay());
      return;
    }
    if (this.#shown !== this.#target && this.#tries < RETRY_OFFSETS.length) {
      this.#issue(RETRY_OFFSETS[this.#tries++]);
      return;
    }
    // On screen already, or out of tries: the frame shown stays what the last callback said.
    this.#target = null;
    this.#events.busy(false);
  };
  #onPause = () => this.#events.playing(false);
  // A seek asked for before the first frame is decoded waits for it: seeking a pipeline that is still
  // starting can leave its first frame on screen with no callback for the frame asked for.
  #onLoaded = () => {
    if (this.#target === null) return;
    this.#target = Math.min(this.#target, this.#last());
    this.#issue(0.5);
  };

  #watch(): void {
    this.#callback = this.#video.requestVideoFrameCallback((_now, metadata) => {
      if (this.#closed) return;
      const n = Math.max(0, Math.min(this.#frames - 1, Math.round(metadata.mediaTime * this.#fps)));
      this.#shown = n;
      this.#events.frame(n);
      if (this.#target !== null && (n === this.#target || !this.#video.paused)) {
        this.#target = null;
        this.#events.busy(false);
      }
      this.#watch();
    });
  }

  /** Shows frame n (clamped to the video); resolves nothing, the frame event says when it is there. */
  seek(n: number): void {
    const frame = Math.max(0, Math.min(this.#last(), Math.round(n)));
    if (frame === this.#shown && this.#target === null && this.#video.paused) return;
    this.#target = frame;
    this.#tries = 0;
    this.#events.busy(true);
    if (this.#video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA) this.#issue(0.5);
  }

  /** The frame asked for while a seek is under way, else the frame on screen. */
  get wanted(): number {
    return this.#target ?? this.#shown;
  }

  /** The last frame: the playback's count, or fewer when the file itself is shorter. */
  #last(): number {
    const d = this.#video.duration;
    const inFile = Number.isFinite(d) && d > 0 ? Math.round(d * this.#fps) : this.#frames;
    return Math.max(0, Math.min(this.#frames, inFile) - 1);
  }

  /** Seeks to a time inside the target's interval [n, n + 1) / fps, never past the end of the file. */
  #issue(offset: number): void {
    if (this.#target === null) return;
    clearTimeout(this.#settle);
    this.#settle = setTimeout(this.#recheck, WATCHDOG_MS);
    const d = this.#video.duration;
    const t = (this.#target + offset) / this.#fps;
    this.#video.currentTime = Number.isFinite(d) ? Math.min(t, d - 0.25 / this.#fps) : t;
  }

  step(delta: number): void {
    if (!this.#video.paused) this.#video.pause();
    this.seek((this.#target ?? this.#shown) + delta);
  }

  async play(): Promise<void> {
    if (this.#shown >= this.#frames - 1) this.seek(0);
    await this.#video.play();
  }

  pause(): void {
    this.#video.pause();
  }

  toggle(): Promise<void> | void {
    return this.#video.paused ? this.play() : this.pause();
  }

  set rate(r: number) {
    this.#video.playbackRate = r;
  }

  close(): void {
    this.#closed = true;
    this.#video.cancelVideoFrameCallback(this.#callback);
    this.#video.removeEventListener('play', this.#onPlay);
    this.#video.removeEventListener('pause', this.#onPause);
    this.#video.removeEventListener('ended', this.#onPause);
    this.#video.removeEventListener('seeked', this.#onSeeked);
    this.#video.removeEventListener('loadeddata', this.#onLoaded);
    clearTimeout(this.#settle);
  }
}

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
  }

  #onPlay = () => this.#events.playing(true);
  // A seek that presents no new frame (or another frame than asked, at the very end of a stream) still
  // ends: the frame on screen stays what the last callback said.
  #onSeeked = () => {
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => {
      if (this.#target === null || this.#closed) return;
      this.#target = null;
      this.#events.busy(false);
    }, 3000);
  };
  #onPause = () => this.#events.playing(false);

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
    const frame = Math.max(0, Math.min(this.#frames - 1, Math.round(n)));
    if (frame === this.#shown && this.#target === null && this.#video.paused) return;
    this.#target = frame;
    this.#events.busy(true);
    this.#video.currentTime = (frame + 0.5) / this.#fps;
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
    clearTimeout(this.#settle);
  }
}

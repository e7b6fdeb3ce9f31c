/**
 * The attention overlay on the GPU: the step's map as a single-channel texture (K×K cells sampled
 * nearest, or the smooth upsampling sampled bilinearly), looked up in a 256×1 colormap LUT texture and
 * written premultiplied at the chosen opacity. The canvas keeps its drawing buffer so tests can read it.
 * A map value v (0…1) is stored as the byte round(255·v) and shows LUT entry round(255·v) exactly.
 */
import { colormapLut, type ColormapName } from '../../../common/colormaps.ts';

const VERTEX = `#version 300 es
in vec2 position;
out vec2 uv;
void main() {
  // Texture row 0 is the top row of the grid.
  uv = vec2(position.x + 1.0, 1.0 - position.y) * 0.5;
  gl_Position = vec4(position, 0.0, 1.0);
}`;

const FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D map;
uniform sampler2D lut;
uniform float opacity;
in vec2 uv;
out vec4 colour;
void main() {
  float v = texture(map, uv).r;
  vec3 c = texture(lut, vec2((floor(v * 255.0 + 0.5) + 0.5) / 256.0, 0.5)).rgb;
  colour = vec4(c * opacity, opacity);
}`;

export interface OverlayFrame {
  /** Row-major map values in 0…1, width × height. */
  values: Float32Array;
  width: number;
  height: number;
  /** Bilinear sampling between texels (the smooth map), else nearest (true cells). */
  linear: boolean;
  opacity: number;
}

function compile(gl: WebGL2RenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type);
  if (!shader) throw new Error('WebGL: cannot create a shader');
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS))
    throw new Error(`WebGL shader: ${gl.getShaderInfoLog(shader) ?? 'compile error'}`);
  return shader;
}

export class AttentionOverlay {
  readonly #gl: WebGL2RenderingContext;
  readonly #mapTexture: WebGLTexture;
  readonly #lutTexture: WebGLTexture;
  readonly #opacity: WebGLUniformLocation | null;
  #colormap: ColormapName | null = null;
  #bytes = new Uint8Array(0);

  constructor(canvas: HTMLCanvasElement) {
    const gl = canvas.getContext('webgl2', {
      preserveDrawingBuffer: true,
      premultipliedAlpha: true,
      antialias: false,
      alpha: true,
    });
    if (!gl) throw new Error('WebGL2 is not available in this window: the attention overlay cannot be drawn');
    this.#gl = gl;
    const program = gl.createProgram();
    gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS))
      throw new Error(`WebGL program: ${gl.getProgramInfoLog(program) ?? 'link error'}`);
    gl.useProgram(program);

    // One triangle covering the viewport.
    gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 3, -1, -1, 3]), gl.STATIC_DRAW);
    const position = gl.getAttribLocation(program, 'position');
    gl.enableVertexAttribArray(position);
    gl.vertexAttribPointer(position, 2, gl.FLOAT, false, 0, 0);

    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    this.#mapTexture = this.#texture(0);
    this.#lutTexture = this.#texture(1);
    gl.uniform1i(gl.getUniformLocation(program, 'map'), 0);
    gl.uniform1i(gl.getUniformLocation(program, 'lut'), 1);
    this.#opacity = gl.getUniformLocation(program, 'opacity');
  }

  #texture(unit: number): WebGLTexture {
    const gl = this.#gl;
    const texture = gl.createTexture();
    gl.activeTexture(gl.TEXTURE0 + unit);
    gl.bindTexture(gl.TEXTURE_2D, texture);
    for (const p of [gl.TEXTURE_MIN_FILTER, gl.TEXTURE_MAG_FILTER])
      gl.texParameteri(gl.TEXTURE_2D, p, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    return texture;
  }

  setColormap(name: ColormapName): void {
    if (name === this.#colormap) return;
    const gl = this.#gl;
    const rgb = colormapLut(name);
    const rgba = new Uint8Array(256 * 4);
    for (let i = 0; i < 256; i++) {
      rgba.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = 255;
    }
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, this.#lutTexture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 256, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
    this.#colormap = name;
  }

  /** Sizes the drawing buffer to the canvas's box in device pixels. */
  resize(cssWidth: number, cssHeight: number, pixelRatio: number): void {
    const canvas = this.#gl.canvas as HTMLCanvasElement;
    const w = Math.max(1, Math.round(cssWidth * pixelRatio));
    const h = Math.max(1, Math.round(cssHeight * pixelRatio));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
  }

  draw(frame: OverlayFrame): void {
    const gl = this.#gl;
    const n = frame.width * frame.height;
    if (this.#bytes.length !== n) this.#bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++)
      this.#bytes[i] = Math.max(0, Math.min(255, Math.round(frame.values[i] * 255)));
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.#mapTexture);
    const filter = frame.linear ? gl.LINEAR : gl.NEAREST;
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, filter);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, filter);
    gl.texImage2D(
      gl.TEXTURE_2D,
      0,
      gl.R8,
      frame.width,
      frame.height,
      0,
      gl.RED,
      gl.UNSIGNED_BYTE,
      this.#bytes,
    );
    gl.uniform1f(this.#opacity, frame.opacity);
    gl.viewport(0, 0, gl.drawingBufferWidth, gl.drawingBufferHeight);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  clear(): void {
    const gl = this.#gl;
    gl.viewport(0, 0, gl.drawingBufferWidth, gl.drawingBufferHeight);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
  }
}

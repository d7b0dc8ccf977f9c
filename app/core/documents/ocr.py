"""OCR of a page image with the PP-OCR models that the rapidocr wheel ships, run on the app's own onnxruntime.

The rapidocr package is never imported: its import pulls in OpenCV (about 170 MB in a frozen app) and
its code can download models. Only its model files are used, found on disk without importing it, and
its pre- and post-processing (rapidocr 3.10.0: ``config.yaml``, ``ch_ppocr_det``, ``ch_ppocr_rec``) is
done here with numpy and Pillow, so OCR runs on sessions this module makes and can stop between batches.

Detection (DB): the probability map is thresholded, dilated, split into connected components and each
component becomes an axis-aligned box grown by DB's unclip distance. A page scanned sideways or at a slant
is first turned upright and level (:mod:`.ocr_orientation`), so its lines fit their boxes; one that the
direction classifier finds upside down is turned half round.
Recognition: each line's crop, in batches, CTC greedy-decoded with the character list the model carries
in its metadata; each character's place on the line comes from the CTC column it was read at.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import Cancelled, InputError, ModelError
from ..stopping import StopCheck, check_stop
from . import ocr_orientation
from .load_options import NO_OPTIONS, LoadOptions

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"  # a line's direction: upright or upside down
MODELS = (DET_MODEL, REC_MODEL, CLS_MODEL)
# What the models read (rapidocr's default_models.yaml, PP-OCRv6 "small" supported_langs).
LANGUAGES = (
    "Chinese (simplified and traditional), Japanese, English, and Latin-script languages: Afrikaans, Albanian, "
    "Azerbaijani, Basque, Bosnian, Catalan, Croatian, Czech, Danish, Dutch, Estonian, Finnish, French, Galician, "
    "German, Hungarian, Icelandic, Indonesian, Irish, Italian, Kurdish, Latin, Latvian, Lithuanian, Luxembourgish, "
    "Malay, Maltese, Maori, Norwegian, Occitan, Polish, Portuguese, Quechua, Romanian, Romansh, Serbian (Latin), "
    "Slovak, Slovenian, Spanish, Swahili, Swedish, Tagalog, Turkish, Uzbek, Vietnamese, Welsh"
)

# rapidocr 3.10.0 config.yaml (Global, Det, Rec).
MAX_SIDE = 2000  # Global.max_side_len: a larger image is shrunk first
MIN_SIDE = 30  # Global.min_side_len
DET_LIMIT_SIDE = 736  # Det.limit_side_len with limit_type "min": the shorter side is at least this
DET_THRESH = 0.3  # Det.thresh: a pixel is text above this probability
BOX_THRESH = 0.5  # Det.box_thresh: a box is text when its mean probability is above this
UNCLIP_RATIO = 1.6  # Det.unclip_ratio
MAX_CANDIDATES = 1000  # Det.max_candidates
MIN_BOX_SIZE = 3  # DBPostProcess.min_size
REC_HEIGHT, REC_WIDTH = 48, 320  # Rec.rec_img_shape
REC_BATCH = 6  # Rec.rec_batch_num
CLS_HEIGHT, CLS_WIDTH = 48, 192  # Cls.cls_image_shape (PP-OCRv4)
CLS_SURE = 0.9  # Cls.cls_thresh: a line's direction counts when the classifier is this sure
CLS_LINES = 12  # the widest lines of a page asked about its direction,
CLS_PIECES = 3  # in this many pieces each
TEXT_SCORE = 0.5  # Global.text_score: a line read with less confidence is dropped
SAME_ROW = 10  # TextDetector.sorted_boxes: boxes whose tops differ by less are one row
STOP_POLL_S = 0.05  # how often a model call asks whether to stop
BAND_ROWS = 256  # rows of a page resized or normalized between two stop checks

Runs = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]  # see labelled_runs


@dataclass(frozen=True)
class OcrLine:
    """One detected line, in the pixels of the image it was read from (y grows down), turned upright and
    level with its page (``OcrPage.turns`` and ``OcrPage.skew``).

    ``lefts[i]`` and ``rights[i]`` are where character ``i`` of ``text`` begins and ends across the line.
    """

    text: str
    box: tuple[float, float, float, float]  # left, top, right, bottom
    lefts: np.ndarray = field(repr=False)
    rights: np.ndarray = field(repr=False)
    score: float = 1.0


@dataclass(frozen=True)
class OcrPage:
    """What OCR read on one page; ``points_per_pixel`` turns its pixels into page points.

    The lines lie upright and level: the image was turned ``turns`` quarter turns counter-clockwise
    (a page scanned sideways or upside down), then by ``-skew`` radians about its centre (a page scanned
    at a slant), and ``on_image`` turns their points back onto the image as it is.
    """

    width: int  # pixels
    height: int
    points_per_pixel: float
    lines: tuple[OcrLine, ...]
    skew: float = 0.0
    turns: int = 0

    def on_image(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points of the lines' upright frame (pixels) where they are on the image."""
        return ocr_orientation.to_image(x, y, self.width, self.height, self.skew, self.turns)

    @property
    def upright_height(self) -> int:
        """The height of the page as its lines stand (pixels)."""
        return self.width if self.turns % 2 else self.height


@dataclass(frozen=True)
class _Upright:
    """A page image turned upright and level, with the detector's map turned the same way."""

    image: np.ndarray
    probability: np.ndarray
    turns: int = 0
    skew: float = 0.0
    offset: tuple[float, float] = (0.0, 0.0)  # the level image's margin around the turned one

    @functools.cached_property
    def runs(self) -> Runs:
        return labelled_runs(probability_mask(self.probability))

    def axes(self) -> ocr_orientation.LineAxes:
        """The axes of the map's line-shaped components, in the image's pixels."""
        pixel_height = self.image.shape[0] / self.probability.shape[0]
        pixel_width = self.image.shape[1] / self.probability.shape[1]
        return ocr_orientation.line_axes(*self.runs[:4], pixel_width, pixel_height)

    def cut(self) -> tuple[list[tuple[int, int, int, int]], list[np.ndarray]]:
        """The boxes of its lines and their crops of the image."""
        boxes = db_boxes(self.probability, self.image.shape[1], self.image.shape[0], self.runs)
        return boxes, [self.image[top:bottom, left:right] for left, top, right, bottom in boxes]

    def quarter_turned(self) -> _Upright:
        """Turned a quarter counter-clockwise (a quarter turn of the map is exact)."""
        image, probability = (
            np.ascontiguousarray(np.rot90(self.image)),
            np.ascontiguousarray(np.rot90(self.probability)),
        )
        return _Upright(image, probability, (self.turns + 1) % 4)

    def levelled(self, skew: float) -> _Upright:
        """Turned by ``-skew`` about its centre, its corners kept."""
        height, width = self.image.shape[:2]
        image = ocr_orientation.level_image(self.image, skew)
        probability = ocr_orientation.level_map(self.probability, width, height, skew)
        return _Upright(image, probability, self.turns, skew, ocr_orientation.level_offset(width, height, skew))

    def half_turned(self) -> _Upright:
        image, probability = (
            np.ascontiguousarray(self.image[::-1, ::-1]),
            np.ascontiguousarray(self.probability[::-1, ::-1]),
        )
        return _Upright(image, probability, (self.turns + 2) % 4, self.skew, self.offset)


def models_dir() -> Path:
    """Where the rapidocr wheel keeps its models, found without importing it (see the module's docstring);
    a frozen app carries them as data in ``rapidocr/models`` beside its code."""
    candidates = []
    if getattr(sys, "frozen", False):
        candidates.append(Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "rapidocr" / "models")
    try:
        spec = importlib.util.find_spec("rapidocr")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(location) / "models" for location in spec.submodule_search_locations]
    for candidate in candidates:
        if all((candidate / name).is_file() for name in MODELS):
            return candidate
    raise ModelError(f"OCR is not installed: the models {', '.join(MODELS)} of the rapidocr package were not found")


@functools.cache
def models_identity() -> str:
    """Names and sizes of the models, so cached OCR results of other models are not reused (found
    once a process: every page's cache key names them)."""
    folder = models_dir()
    return ";".join(f"{name}:{(folder / name).stat().st_size}" for name in MODELS)


class OcrEngine:
    """The three onnxruntime sessions; ``read`` may be called from several threads at once."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime as ort  # here, so importing the loaders does not start onnxruntime

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.log_severity_level = 3  # as app/core/runtime.py: onnxruntime's warnings stay quiet
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            # The CPU: a GPU provider buys little for a few pages and fails in more ways.
            self._det = ort.InferenceSession(str(folder / DET_MODEL), options, providers=["CPUExecutionProvider"])
            self._rec = ort.InferenceSession(str(folder / REC_MODEL), options, providers=["CPUExecutionProvider"])
            self._cls = ort.InferenceSession(str(folder / CLS_MODEL), options, providers=["CPUExecutionProvider"])
            metadata = self._rec.get_modelmeta().custom_metadata_map
        except Exception as error:  # onnxruntime raises several unrelated exception types
            raise ModelError(f"cannot load the OCR models in {folder}: {error}") from error
        if "character" not in metadata:
            raise ModelError(f"the OCR model {REC_MODEL} has no character list")
        # As rapidocr's CTCLabelDecode: the CTC blank first, the model's characters, then a space.
        self.characters = np.array(["", *metadata["character"].splitlines(), " "], dtype=object)

    def read(self, image: np.ndarray, points_per_pixel: float = 1.0, *, options: LoadOptions = NO_OPTIONS) -> OcrPage:
        """The lines of text in ``image`` (H, W, 3 RGB uint8), top to bottom, left to right; a pixel of
        the image is ``points_per_pixel`` points of its page."""
        options.check_stop()
        scaled, ratio = _bounded(image, options.should_stop)
        page = self._upright(scaled, options)
        boxes, crops = page.cut()
        if self._upside_down(crops, options):
            page = page.half_turned()
            boxes, crops = page.cut()
        read = self._recognize(crops, options)
        lines = []
        for (left, top, right, bottom), (text, score, centres) in zip(boxes, read, strict=True):
            if not text.strip() or score < TEXT_SCORE:
                continue
            lefts, rights = _char_extents(centres, right - left)
            # In the upright frame centred on the turned page (the level image is larger by its corners).
            left, right = left - page.offset[0], right - page.offset[0]
            top, bottom = top - page.offset[1], bottom - page.offset[1]
            lines.append(
                OcrLine(
                    text,
                    (left / ratio, top / ratio, right / ratio, bottom / ratio),
                    (lefts + left) / ratio,
                    (rights + left) / ratio,
                    score,
                )
            )
        return OcrPage(image.shape[1], image.shape[0], points_per_pixel, tuple(lines), page.skew, page.turns)

    def _upright(self, image: np.ndarray, options: LoadOptions) -> _Upright:
        """``image`` turned a quarter when its lines run down it, and level when they lean; the detector's
        map turned with it (a quarter turn of the map is exact, so the detector runs once)."""
        page = _Upright(image, self._probability(image, options))
        if ocr_orientation.is_sideways(page.axes()):
            # Which quarter is settled later: a page turned the wrong way is upside down (_upside_down).
            page = page.quarter_turned()
        skew = ocr_orientation.skew_angle(page.axes())
        if not skew:
            return page
        options.check_stop()
        return page.levelled(skew)

    def _upside_down(self, crops: list[np.ndarray], options: LoadOptions) -> bool:
        """Whether the direction classifier, shown pieces of the page's widest lines, finds more of them
        upside down than upright (a piece counts where the classifier is sure, as rapidocr's cls_thresh).
        Pieces of the classifier's own shape: a whole line squeezed into it is too small to read."""
        lines = sorted((crop for crop in crops if crop.shape[1] >= 2 * crop.shape[0]), key=lambda c: -c.shape[1])
        pieces = []
        for crop in lines[:CLS_LINES]:
            width = min(crop.shape[1], crop.shape[0] * CLS_WIDTH // CLS_HEIGHT)
            for left in np.linspace(0, crop.shape[1] - width, CLS_PIECES).astype(int):
                pieces.append(crop[:, left : left + width])
        if not pieces:
            return False
        options.check_stop()
        tensor = np.zeros((len(pieces), 3, CLS_HEIGHT, CLS_WIDTH), dtype=np.float32)
        for row, piece in enumerate(pieces):
            resized_w = min(CLS_WIDTH, math.ceil(CLS_HEIGHT * piece.shape[1] / piece.shape[0]))
            tensor[row, :, :, :resized_w] = _normalized(resize_bilinear(piece[..., ::-1], resized_w, CLS_HEIGHT))[0]
        scores = self._run(self._cls, tensor, options)  # (pieces, 2): upright, upside down
        return bool((scores[:, 1] > CLS_SURE).sum() > (scores[:, 0] > CLS_SURE).sum())

    def _probability(self, image: np.ndarray, options: LoadOptions) -> np.ndarray:
        """DB's map: the probability that each pixel of ``image``, shrunk or grown for the model, is text."""
        height, width = image.shape[:2]
        ratio = DET_LIMIT_SIDE / min(height, width) if min(height, width) < DET_LIMIT_SIDE else 1.0
        det_h = max(32, round(int(height * ratio) / 32) * 32)
        det_w = max(32, round(int(width * ratio) / 32) * 32)
        # The models were trained on BGR.
        tensor = _normalized(resize_bilinear(image[..., ::-1], det_w, det_h, options.should_stop), options.should_stop)
        return self._run(self._det, tensor, options)[0, 0]

    def _recognize(self, crops: list[np.ndarray], options: LoadOptions) -> list[tuple[str, float, np.ndarray]]:
        results: list[tuple[str, float, np.ndarray]] = [("", 0.0, np.zeros(0))] * len(crops)
        # Batches of lines of similar shape waste the least padding (rapidocr sorts the same way).
        order = np.argsort([crop.shape[1] / crop.shape[0] for crop in crops], kind="stable")
        for begin in range(0, len(crops), REC_BATCH):
            options.check_stop()
            batch = [crops[i] for i in order[begin : begin + REC_BATCH]]
            max_ratio = max(REC_WIDTH / REC_HEIGHT, *(crop.shape[1] / crop.shape[0] for crop in batch))
            input_width = int(REC_HEIGHT * max_ratio)
            tensor = np.zeros((len(batch), 3, REC_HEIGHT, input_width), dtype=np.float32)
            used = []
            for row, crop in enumerate(batch):
                resized_w = min(input_width, math.ceil(REC_HEIGHT * crop.shape[1] / crop.shape[0]))
                tensor[row, :, :, :resized_w] = _normalized(resize_bilinear(crop[..., ::-1], resized_w, REC_HEIGHT))[0]
                used.append(resized_w)
            scores = self._run(self._rec, tensor, options)
            columns = input_width / scores.shape[1]  # input pixels per CTC step
            for row, index in enumerate(order[begin : begin + REC_BATCH]):
                text, score, steps = ctc_decode(scores[row], self.characters)
                # Each character sits at its CTC step, in the crop's own pixels.
                centres = (steps + 0.5) * columns * crops[index].shape[1] / used[row]
                results[index] = (text, score, centres)
        return results

    @staticmethod
    def _run(session, tensor: np.ndarray, options: LoadOptions) -> np.ndarray:  # session: an InferenceSession
        """One model call (detecting a page's lines takes a second). While it runs, a watcher asks
        ``options`` whether to stop every ``STOP_POLL_S``; told to, onnxruntime ends the call at its
        next step and Cancelled is raised."""
        import onnxruntime as ort

        run_options = ort.RunOptions()
        finished = threading.Event()

        def watch() -> None:
            try:
                while not finished.wait(STOP_POLL_S):
                    if options.should_stop is not None and options.should_stop():
                        run_options.terminate = True
                        return
            except Exception:  # the reader's next check, in the reader's own thread, raises it again
                return

        watcher = threading.Thread(target=watch, name="ocr-stop", daemon=True)
        if options.should_stop is not None:
            watcher.start()
        try:
            return session.run(None, {session.get_inputs()[0].name: tensor}, run_options)[0]
        except Exception as error:
            if run_options.terminate:
                raise Cancelled("stopped") from None
            raise ModelError(f"the OCR model failed to run: {error}") from error
        finally:
            finished.set()
            if watcher.is_alive():
                watcher.join()


def ctc_decode(scores: np.ndarray, characters: np.ndarray) -> tuple[str, float, np.ndarray]:
    """Greedy CTC: the best class at each step, repeats merged, blanks dropped; the mean confidence and the
    step each character was read at."""
    best = scores.argmax(axis=1)
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    keep &= best != 0
    steps = np.flatnonzero(keep)
    confidence = float(scores[steps, best[steps]].mean()) if len(steps) else 0.0
    return "".join(characters[best[steps]]), confidence, steps.astype(np.float64)


def _char_extents(centres: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Each character's span across its line: halfway to its neighbours, and a half step at the ends."""
    if not len(centres):
        return np.zeros(0), np.zeros(0)
    step = float(np.median(np.diff(centres))) if len(centres) > 1 else width
    middles = (centres[1:] + centres[:-1]) / 2
    lefts = np.concatenate([[max(0.0, centres[0] - step / 2)], middles])
    rights = np.concatenate([middles, [min(float(width), centres[-1] + step / 2)]])
    return lefts, rights


def _bounded(image: np.ndarray, should_stop: StopCheck | None = None) -> tuple[np.ndarray, float]:
    """rapidocr's resize_image_within_bounds: the longer side at most MAX_SIDE, the shorter at least MIN_SIDE."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError("OCR needs an RGB image of 8 bits a channel")
    height, width = image.shape[:2]
    ratio = 1.0
    if max(height, width) > MAX_SIDE:
        ratio = MAX_SIDE / max(height, width)
    if min(height, width) * ratio < MIN_SIDE:
        ratio = MIN_SIDE / min(height, width)
    if ratio == 1.0:
        return image, 1.0
    new_w, new_h = max(1, int(width * ratio)), max(1, int(height * ratio))
    return resize_bilinear(image, new_w, new_h, should_stop), new_w / width


def _normalized(image: np.ndarray, should_stop: StopCheck | None = None) -> np.ndarray:
    """(H, W, 3) uint8 to (1, 3, H, W) in [-1, 1]: mean and std 0.5, as both models expect; a band of
    ``BAND_ROWS`` rows at a time, with a stop check before each (a page takes a tenth of a second)."""
    height, width = image.shape[:2]
    out = np.empty((1, 3, height, width), dtype=np.float32)
    for top in range(0, height, BAND_ROWS):
        check_stop(should_stop)
        band = image[top : top + BAND_ROWS]
        out[0, :, top : top + BAND_ROWS] = ((band.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    return out


def resize_bilinear(image: np.ndarray, width: int, height: int, should_stop: StopCheck | None = None) -> np.ndarray:
    """OpenCV's INTER_LINEAR resize (pixel centres aligned, edges clamped) in numpy; a band of
    ``BAND_ROWS`` rows at a time, with a stop check before each."""
    src_h, src_w = image.shape[:2]
    if (src_w, src_h) == (width, height):
        return image

    def taps(size: int, src: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        where = np.clip((np.arange(size) + 0.5) * (src / size) - 0.5, 0, src - 1)
        low = np.floor(where).astype(np.intp)
        return low, np.minimum(low + 1, src - 1), (where - low).astype(np.float32)

    y0, y1, fy = taps(height, src_h)
    x0, x1, fx = taps(width, src_w)
    out = np.empty((height, width, *image.shape[2:]), dtype=np.uint8)
    for top in range(0, height, BAND_ROWS):
        check_stop(should_stop)
        band = slice(top, top + BAND_ROWS)
        above, below = image[y0[band]].astype(np.float32), image[y1[band]].astype(np.float32)
        rows = above * (1 - fy[band])[:, None, None] + below * fy[band][:, None, None]
        mixed = rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]
        out[band] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return out


def probability_mask(probability: np.ndarray) -> np.ndarray:
    """The pixels DB takes for text: above DET_THRESH, then cv2.dilate with a 2x2 kernel (use_dilation): a
    pixel is set when it or its upper or left neighbours are."""
    mask = probability > DET_THRESH
    grown = mask.copy()
    grown[1:] |= mask[:-1]
    dilated = grown.copy()
    dilated[:, 1:] |= grown[:, :-1]
    return dilated


def db_boxes(probability: np.ndarray, dest_width: int, dest_height: int, runs: Runs) -> list[tuple[int, int, int, int]]:
    """DBPostProcess with axis-aligned boxes: (left, top, right, bottom) in the destination's pixels, sorted
    into reading order. ``runs``: ``labelled_runs`` of the map's ``probability_mask``."""
    height, width = probability.shape
    components = run_boxes(runs, width, height)[:MAX_CANDIDATES]
    # A box's score is the mean probability inside it (score_mode "fast"), from a summed-area table.
    table = np.zeros((height + 1, width + 1), dtype=np.float64)
    table[1:, 1:] = probability.cumsum(0).cumsum(1)
    boxes = []
    for left, top, right, bottom in components:  # right and bottom inclusive
        box_w, box_h = right - left, bottom - top  # minAreaRect of the pixel centres
        if min(box_w, box_h) < MIN_BOX_SIZE:
            continue
        total = table[bottom + 1, right + 1] - table[top, right + 1] - table[bottom + 1, left] + table[top, left]
        if total / ((box_w + 1) * (box_h + 1)) < BOX_THRESH:
            continue
        grow = box_w * box_h * UNCLIP_RATIO / (2 * (box_w + box_h))  # DB's unclip distance
        if min(box_w, box_h) + 2 * grow < MIN_BOX_SIZE + 2:
            continue
        x0 = min(max(round((left - grow) / width * dest_width), 0), dest_width - 1)
        x1 = min(max(round((right + grow) / width * dest_width), 0), dest_width - 1)
        y0 = min(max(round((top - grow) / height * dest_height), 0), dest_height - 1)
        y1 = min(max(round((bottom + grow) / height * dest_height), 0), dest_height - 1)
        if x1 - x0 <= 3 or y1 - y0 <= 3:
            continue
        boxes.append((x0, y0, x1, y1))
    # Reading order as rapidocr's sorted_boxes: by top, then rows of nearby tops from left to right.
    boxes.sort(key=lambda box: box[1])
    row, rows, previous = 0, [], None
    for box in boxes:
        if previous is not None and box[1] - previous >= SAME_ROW:
            row += 1
        rows.append(row)
        previous = box[1]
    return [box for _, box in sorted(zip(rows, boxes, strict=True), key=lambda pair: (pair[0], pair[1][0]))]


def labelled_runs(mask: np.ndarray) -> Runs:
    """The 8-connected components of ``mask`` as runs: (rows, starts, ends, component, count), run ``i``
    covering columns ``starts[i]`` to ``ends[i] - 1`` of row ``rows[i]`` and belonging to component
    ``component[i]`` of ``count``.

    Runs in adjacent rows that touch are joined by label propagation with pointer jumping, all in numpy
    (a page has some 10^5 runs, far too many for a Python loop).
    """
    height, width = mask.shape
    padded = np.zeros((height, width + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    change = np.diff(padded, axis=1)
    start_rows, starts = np.nonzero(change == 1)  # row-major, so runs come sorted by row then column
    end_rows, ends = np.nonzero(change == -1)  # a run covers starts..ends-1
    count = len(starts)
    if not count:
        return start_rows, starts, ends, np.zeros(0, dtype=np.intp), 0
    stride = width + 2
    start_keys = start_rows * stride + starts
    end_keys = end_rows * stride + ends
    # Run b in row r touches the runs of row r - 1 with end >= start_b and start <= end_b (8-connectivity).
    above = start_rows - 1
    low = np.searchsorted(end_keys, above * stride + starts, side="left")
    high = np.searchsorted(start_keys, above * stride + ends, side="right")
    high = np.where(start_rows > 0, np.maximum(high, low), low)
    pairs = high - low
    b = np.repeat(np.arange(count), pairs)
    a = np.repeat(low, pairs) + (np.arange(pairs.sum()) - np.repeat(np.cumsum(pairs) - pairs, pairs))
    labels = np.arange(count)
    while True:
        smallest = np.minimum(labels[a], labels[b])
        updated = labels.copy()
        np.minimum.at(updated, a, smallest)
        np.minimum.at(updated, b, smallest)
        updated = updated[updated]  # pointer jumping: follow each label to its own label
        while not np.array_equal(updated, updated[updated]):
            updated = updated[updated]
        if np.array_equal(updated, labels):
            break
        labels = updated
    roots, component = np.unique(labels, return_inverse=True)
    return start_rows, starts, ends, component, len(roots)


def run_boxes(runs: Runs, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """The bounding box (left, top, right, bottom, inclusive) of each component of ``runs``."""
    rows, starts, ends, component, n = runs
    lefts = np.full(n, width, dtype=np.int64)
    rights = np.full(n, -1, dtype=np.int64)
    tops = np.full(n, height, dtype=np.int64)
    bottoms = np.full(n, -1, dtype=np.int64)
    np.minimum.at(lefts, component, starts)
    np.maximum.at(rights, component, ends - 1)
    np.minimum.at(tops, component, rows)
    np.maximum.at(bottoms, component, rows)
    return [(int(x0), int(y0), int(x1), int(y1)) for x0, y0, x1, y1 in zip(lefts, tops, rights, bottoms, strict=True)]


_ENGINE: OcrEngine | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> OcrEngine:
    """The process's one engine, made on first use (loading the models takes a second)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = OcrEngine(models_dir())
        return _ENGINE

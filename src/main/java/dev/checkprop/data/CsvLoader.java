package dev.checkprop.data;

import it.unimi.dsi.fastutil.floats.FloatArrayList;
import it.unimi.dsi.fastutil.ints.IntArrayList;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Loads a numeric CSV file into a {@link Dataset}: one sample per line, either one label column
 * (classification; integer labels 0..K&minus;1) or the last k columns as regression targets, all
 * other columns being inputs in file order.
 *
 * <h2>Format</h2>
 * UTF-8 (a leading byte order mark is skipped), lines ending in LF or CRLF, fields separated by a
 * delimiter (default {@code ','}) and trimmed of spaces; a field wrapped in double quotes is
 * unwrapped, but quoted fields cannot contain the delimiter. Blank lines are skipped (and still
 * counted in line numbers). Numbers are decimal, as in {@code -1.5e-3}; {@code NaN} and
 * infinities are rejected, as are values beyond float range. Every row must have as many fields as
 * the first.
 *
 * <p>Header: with {@link Header#DETECT} (the default) the first non-blank line is a header when
 * none of its fields is a number, and data otherwise (so a first row with one bad value is reported
 * as an error rather than silently taken for a header). {@link Header#PRESENT} and
 * {@link Header#ABSENT} say so explicitly.
 *
 * <h2>Errors</h2>
 * A {@link DataFormatException} naming the file, the 1-based line and, for a value, the 1-based
 * column: {@code data.csv line 17: expected 5 columns, got 4}, {@code data.csv line 3, column 2:
 * 'abc' is not a number}. (Column indices given to this class are 0-based, as everywhere in Java;
 * only messages count from 1, as editors and spreadsheets do.)
 *
 * <p>Instances are immutable: each option returns a new loader.
 */
public final class CsvLoader {

    /** Whether the first non-blank line is a header. */
    public enum Header {
        /** A header when none of its fields is a number. */
        DETECT,
        /** Always a header (its fields are not read, but set the expected column count). */
        PRESENT,
        /** Never a header: the first line is data. */
        ABSENT
    }

    private final int labelColumn;
    private final int targetColumns;
    private final int classes;
    private final Header header;
    private final char delimiter;

    private CsvLoader(int labelColumn, int targetColumns, int classes, Header header, char delimiter) {
        this.labelColumn = labelColumn;
        this.targetColumns = targetColumns;
        this.classes = classes;
        this.header = header;
        this.delimiter = delimiter;
    }

    /**
     * A loader for classification data whose labels are in column {@code labelColumn}, 0-based;
     * a negative index counts from the end ({@code -1} is the last column). Labels are written as
     * non-negative integers ({@code 3} or {@code 3.0}); K is one more than the largest, unless set
     * with {@link #classes}.
     */
    public static CsvLoader classification(int labelColumn) {
        return new CsvLoader(labelColumn, 0, 0, Header.DETECT, ',');
    }

    /**
     * A loader for regression data whose last {@code targetColumns} columns are the targets y.
     *
     * @throws IllegalArgumentException if {@code targetColumns < 1}
     */
    public static CsvLoader regression(int targetColumns) {
        if (targetColumns < 1) {
            throw new IllegalArgumentException("regression needs at least 1 target column, got " + targetColumns);
        }
        return new CsvLoader(0, targetColumns, 0, Header.DETECT, ',');
    }

    /** Answers this loader with the given header rule. */
    public CsvLoader header(Header rule) {
        return new CsvLoader(labelColumn, targetColumns, classes, java.util.Objects.requireNonNull(rule, "rule"), delimiter);
    }

    /**
     * Answers this loader with another field delimiter, such as {@code ';'} or {@code '\t'}.
     *
     * @throws IllegalArgumentException for a double quote, a line break, or a character that can
     *                                  appear in a number
     */
    public CsvLoader delimiter(char c) {
        if (c == '"' || c == '\n' || c == '\r' || Character.isDigit(c) || "+-.eE".indexOf(c) >= 0) {
            throw new IllegalArgumentException("'" + c + "' cannot be a CSV delimiter");
        }
        return new CsvLoader(labelColumn, targetColumns, classes, header, c);
    }

    /**
     * Answers this classification loader with a fixed number of classes K: labels must be in
     * {@code 0..K-1}, and the dataset has K classes even if the file lacks the last ones.
     *
     * @throws IllegalStateException    for a regression loader
     * @throws IllegalArgumentException if {@code k < 1}
     */
    public CsvLoader classes(int k) {
        if (targetColumns != 0) {
            throw new IllegalStateException("a regression loader has no classes");
        }
        if (k < 1) {
            throw new IllegalArgumentException("the number of classes must be >= 1, got " + k);
        }
        return new CsvLoader(labelColumn, 0, k, header, delimiter);
    }

    /**
     * Reads a CSV file.
     *
     * @throws DataFormatException naming the file, line and column of the first problem
     * @throws IOException         if the file cannot be read
     */
    public Dataset load(Path path) throws IOException {
        // Text becomes floats in growing lists, then arrays: up to about 2 bytes of heap per byte of text.
        dev.checkprop.memory.Preflight.heap(path + ": " + Files.size(path) + " bytes of CSV, loaded as floats",
                2.0 * Files.size(path), "give a larger -Xmx");
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            return read(r, path.toString());
        } catch (java.nio.charset.CharacterCodingException e) {
            // The decoder reads ahead, so its exception says neither where nor which line: find the first
            // bad byte ourselves (only on this error path).
            throw new DataFormatException(path + " " + firstInvalidUtf8(path)
                    + ": not valid UTF-8 (is the file Latin-1 or another encoding? convert it to UTF-8)");
        } catch (DataFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException(path + ": cannot read: " + dev.checkprop.io.AtomicFiles.reason(e), e);
        }
    }

    /** "line L, byte B" of the first byte of {@code path} that breaks UTF-8. */
    static String firstInvalidUtf8(Path path) throws IOException {
        try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(path), 1 << 16)) {
            long offset = 0;
            long line = 1;
            int need = 0; // continuation bytes still expected
            long start = 0;
            long startLine = 1;
            int b;
            while ((b = in.read()) >= 0) {
                if (need > 0) {
                    if ((b & 0xC0) != 0x80) {
                        return "line " + startLine + ", byte " + start;
                    }
                    need--;
                } else {
                    start = offset;
                    startLine = line;
                    if (b >= 0xC2 && b <= 0xDF) {
                        need = 1;
                    } else if (b >= 0xE0 && b <= 0xEF) {
                        need = 2;
                    } else if (b >= 0xF0 && b <= 0xF4) {
                        need = 3;
                    } else if (b >= 0x80) {
                        return "line " + line + ", byte " + offset;
                    }
                }
                if (b == '\n') {
                    line++;
                }
                offset++;
            }
            return need > 0 ? "line " + startLine + ", byte " + start : "line " + line;
        }
    }

    /**
     * Reads CSV text; {@code source} names it in messages.
     *
     * @throws DataFormatException naming the source, line and column of the first problem
     * @throws IOException         if the reader fails
     */
    public Dataset read(Reader reader, String source) throws IOException {
        final BufferedReader in = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
        final Rows rows = new Rows(source, true);
        int lineNo = 0;
        String line;
        while ((line = in.readLine()) != null) {
            rows.line(line, ++lineNo);
        }
        return rows.finish(lineNo);
    }

    /**
     * Where each data row of a CSV file starts, found by {@link #index}: what {@link #readRows}
     * needs to read any range of rows without reading the rows before it.
     *
     * @param columns    the fields of every row
     * @param classes    K for a classification loader (as {@link #load} answers it), 0 for regression
     * @param rowOffsets the byte offset in the file of the line of each data row, in file order
     * @param rowLines   the 1-based line number of each data row
     */
    public record RowIndex(int columns, int classes, long[] rowOffsets, int[] rowLines) {

        /** Answers N, the data rows. */
        public int rows() {
            return rowOffsets.length;
        }
    }

    /**
     * Indexes a CSV file in one streaming pass over its bytes, checking it as {@link #load} does:
     * every value is parsed (and dropped), so a file {@link #load} refuses is refused here with the
     * same message, and a file it reads gives the same rows, in the same order, to
     * {@link #readRows}. Holds 12 bytes per row (offset, line and, for classification, the label).
     * Lines end at LF, CR or CRLF, as {@link BufferedReader#readLine} ends them.
     *
     * @param in     the file from its first byte (buffered here)
     * @param source names the file in messages
     * @throws DataFormatException naming the source, line and column of the first problem
     * @throws IOException         if the stream fails
     */
    public RowIndex index(java.io.InputStream in, String source) throws IOException {
        final Utf8Lines lines = new Utf8Lines(in, source, 0);
        final Rows rows = new Rows(source, false);
        final it.unimi.dsi.fastutil.longs.LongArrayList offsets = new it.unimi.dsi.fastutil.longs.LongArrayList();
        final IntArrayList lineNos = new IntArrayList();
        int lineNo = 0;
        String line;
        while ((line = lines.next(lineNo + 1)) != null) {
            if (rows.line(line, ++lineNo)) {
                offsets.add(lines.lineStart());
                lineNos.add(lineNo);
            }
        }
        rows.finish(lineNo);
        return new RowIndex(rows.columns, rows.classesFound(), offsets.toLongArray(), lineNos.toIntArray());
    }

    /**
     * Reads rows {@code from .. to-1} of an indexed file, parsed and checked as {@link #load} parses
     * them (messages name the file's own line numbers): the dataset {@link #load} answers, restricted
     * to those rows. Reads only the bytes of those lines.
     *
     * @param in     the file positioned at {@code index.rowOffsets()[from]} (buffered here)
     * @param index  the file's {@link #index}, from this loader
     * @throws DataFormatException naming the line of a value that no longer parses, or if the file
     *                             ends early (it changed since it was indexed)
     * @throws IOException         if the stream fails
     */
    public Dataset readRows(java.io.InputStream in, String source, RowIndex index, int from, int to) throws IOException {
        java.util.Objects.checkFromToIndex(from, to, index.rows());
        return readRows(in, source, index.columns(), index.classes(), from, index.rowLines()[from], to - from);
    }

    /**
     * As {@link #readRows(java.io.InputStream, String, RowIndex, int, int)}, from the parts of the
     * index that range needs: what a reader on another machine is given instead of the whole index.
     *
     * @param in        the file positioned at the first byte of row {@code firstRow}'s line
     * @param columns   {@link RowIndex#columns()}
     * @param classes   {@link RowIndex#classes()}
     * @param firstRow  the row's index (for messages)
     * @param firstLine the row's line, {@link RowIndex#rowLines()}{@code [firstRow]}
     * @param rows      how many rows to read, at least 1
     */
    public Dataset readRows(java.io.InputStream in, String source, int columns, int classes, int firstRow, int firstLine,
                            int rows) throws IOException {
        if (rows < 1) {
            throw new IllegalArgumentException("no rows to read: " + rows);
        }
        final Rows parse = new Rows(source, true);
        parse.startAt(columns);
        parse.fixedClasses = classes;
        int lineNo = firstLine - 1;
        final Utf8Lines lines = new Utf8Lines(in, source, 0);
        int read = 0;
        while (read < rows) {
            final String line = lines.next(lineNo + 1);
            if (line == null) {
                throw new DataFormatException(source + " line " + lineNo + ": the file ended after " + read + " of rows "
                        + firstRow + ".." + (firstRow + rows - 1) + "; was it changed after it was indexed?");
            }
            if (parse.line(line, ++lineNo)) {
                read++;
            }
        }
        return parse.finish(lineNo);
    }

    /** One parse: the column layout found on the first row, and the values of the rows read. */
    private final class Rows {
        final String source;
        final boolean keep;
        final List<String> fields = new ArrayList<>();
        final FloatArrayList x = new FloatArrayList();
        final FloatArrayList y = new FloatArrayList();
        final IntArrayList labels = new IntArrayList();
        int columns = -1;
        int labelAt = -1;
        int firstTarget = -1;
        int maxLabel = -1;
        int maxLabelLine;
        int dataRows;
        /** For {@link #readRows}: K from the index, whatever these rows' labels are. */
        int fixedClasses;

        Rows(String source, boolean keep) {
            this.source = source;
            this.keep = keep;
        }

        /** Sets the layout of a file whose first row has {@code columns} fields, as {@link #line} would. */
        void startAt(int columns) {
            this.columns = columns;
            if (targetColumns == 0) {
                labelAt = labelColumn < 0 ? columns + labelColumn : labelColumn;
            } else {
                firstTarget = columns - targetColumns;
            }
        }

        /** Takes line {@code lineNo}: answers whether it was a data row. */
        boolean line(String line, int lineNo) throws DataFormatException {
            if (lineNo == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                line = line.substring(1);
            }
            if (line.isBlank()) {
                return false;
            }
            split(line, fields);
            if (columns < 0) {
                startAt(fields.size());
                final String where = source + " line " + lineNo;
                if (targetColumns == 0 && (labelAt < 0 || labelAt >= columns)) {
                    throw new DataFormatException(where + ": label column " + labelColumn + " does not exist in a "
                            + columns + "-column file");
                }
                if (columns < 2 || (targetColumns > 0 && firstTarget < 1)) {
                    throw new DataFormatException(where + ": a " + columns + "-column file has no input columns besides the "
                            + (targetColumns == 0 ? "label column" : targetColumns + " target column" + (targetColumns > 1 ? "s" : "")));
                }
                if (isHeader(fields)) {
                    return false;
                }
            } else if (fields.size() != columns) {
                throw new DataFormatException(source + " line " + lineNo + ": expected " + columns + " columns, got "
                        + fields.size());
            }
            for (int c = 0; c < columns; c++) {
                final String f = fields.get(c);
                if (c == labelAt) {
                    final int label = parseLabel(f, source, lineNo, c);
                    if (label > maxLabel) {
                        maxLabel = label;
                        maxLabelLine = lineNo;
                    }
                    labels.add(label);
                } else if (firstTarget > 0 && c >= firstTarget) {
                    final float v = parseValue(f, source, lineNo, c);
                    if (keep) {
                        y.add(v);
                    }
                } else {
                    final float v = parseValue(f, source, lineNo, c);
                    if (keep) {
                        x.add(v);
                    }
                }
            }
            dataRows++;
            return true;
        }

        int classesFound() {
            return targetColumns == 0 ? (classes > 0 ? classes : maxLabel + 1) : 0;
        }

        /** The dataset of the rows read (null when values were not kept), after the whole-file checks. */
        Dataset finish(int lineNo) throws DataFormatException {
            if (dataRows == 0) {
                throw new DataFormatException(source + ": no data rows" + (lineNo == 0 ? " (the file is empty)" : ""));
            }
            final int inputWidth = columns - (targetColumns == 0 ? 1 : targetColumns);
            if (targetColumns == 0) {
                if (fixedClasses == 0 && classes == 0) {
                    final String at = source + " line " + maxLabelLine;
                    Dataset.checkInferredClasses(labels.toIntArray(), maxLabel + 1, i -> at);
                }
                if (!keep) {
                    return null;
                }
                final int k = fixedClasses > 0 ? fixedClasses : classesFound();
                return Dataset.adoptClassification(x.toFloatArray(), inputWidth, labels.toIntArray(), k);
            }
            return keep ? Dataset.adoptRegression(x.toFloatArray(), inputWidth, y.toFloatArray(), targetColumns) : null;
        }
    }

    /**
     * The lines of a UTF-8 byte stream, each with the byte offset where it starts: lines end at LF,
     * CR or CRLF (as {@link BufferedReader#readLine}), and malformed UTF-8 is an error naming the
     * line and byte, as {@link #load} names it.
     */
    private static final class Utf8Lines {
        private final java.io.InputStream in;
        private final String source;
        private final java.nio.charset.CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        private byte[] buf = new byte[256];
        private long offset;
        private long lineStart;
        private int pending = -1;

        Utf8Lines(java.io.InputStream in, String source, long offset) {
            this.in = in instanceof java.io.BufferedInputStream ? in : new java.io.BufferedInputStream(in, 1 << 16);
            this.source = source;
            this.offset = offset;
        }

        long lineStart() {
            return lineStart;
        }

        /** Answers line {@code lineNo}'s text without its terminator, or null at the end of the stream. */
        String next(int lineNo) throws IOException {
            lineStart = offset;
            int n = 0;
            int b = pending >= 0 ? pending : in.read();
            pending = -1;
            if (b < 0) {
                return null;
            }
            while (b >= 0 && b != '\n' && b != '\r') {
                if (n == buf.length) {
                    buf = java.util.Arrays.copyOf(buf, 2 * n);
                }
                buf[n++] = (byte) b;
                b = in.read();
            }
            offset += n + (b >= 0 ? 1 : 0);
            if (b == '\r') {
                final int c = in.read();
                if (c == '\n') {
                    offset++;
                } else {
                    pending = c;
                }
            }
            final java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(buf, 0, n);
            final java.nio.CharBuffer chars = java.nio.CharBuffer.allocate(n);
            decoder.reset();
            java.nio.charset.CoderResult r = decoder.decode(bytes, chars, true);
            if (!r.isError()) {
                r = decoder.flush(chars);
            }
            if (r.isError()) {
                throw new DataFormatException(source + " line " + lineNo + ", byte " + (lineStart + bytes.position())
                        + ": not valid UTF-8 (is the file Latin-1 or another encoding? convert it to UTF-8)");
            }
            return chars.flip().toString();
        }
    }

    private boolean isHeader(List<String> fields) {
        switch (header) {
            case PRESENT:
                return true;
            case ABSENT:
                return false;
            default:
                for (String f : fields) {
                    if (isDecimal(f)) {
                        return false;
                    }
                }
                return true;
        }
    }

    private void split(String line, List<String> out) {
        out.clear();
        int start = 0;
        while (true) {
            final int end = line.indexOf(delimiter, start);
            String f = (end < 0 ? line.substring(start) : line.substring(start, end)).strip();
            if (f.length() >= 2 && f.charAt(0) == '"' && f.charAt(f.length() - 1) == '"') {
                f = f.substring(1, f.length() - 1).strip();
            }
            out.add(f);
            if (end < 0) {
                return;
            }
            start = end + 1;
        }
    }

    private static float parseValue(String f, String source, int line, int column) throws DataFormatException {
        if (!isDecimal(f)) {
            throw notANumber(f, source, line, column);
        }
        final float v = Float.parseFloat(f);
        if (Float.isInfinite(v)) {
            throw new DataFormatException(at(source, line, column) + "'" + f + "' is beyond float range");
        }
        return v;
    }

    private int parseLabel(String f, String source, int line, int column) throws DataFormatException {
        if (!isDecimal(f)) {
            throw notANumber(f, source, line, column);
        }
        final double v = Double.parseDouble(f);
        if (v < 0) {
            throw new DataFormatException(at(source, line, column) + "label '" + f + "' is negative: labels must be 0..K-1");
        }
        if (v != Math.rint(v)) {
            throw new DataFormatException(at(source, line, column) + "label '" + f + "' is not an integer");
        }
        if (v >= Integer.MAX_VALUE) {
            throw new DataFormatException(at(source, line, column) + "label '" + f + "' is too large");
        }
        if (classes > 0 && v >= classes) {
            throw new DataFormatException(at(source, line, column) + "label '" + f + "' is out of range 0.." + (classes - 1));
        }
        return (int) v;
    }

    private static DataFormatException notANumber(String f, String source, int line, int column) {
        final String lower = f.toLowerCase(Locale.ROOT);
        final String bare = lower.startsWith("+") || lower.startsWith("-") ? lower.substring(1) : lower;
        if (bare.equals("nan") || bare.equals("inf") || bare.equals("infinity")) {
            return new DataFormatException(at(source, line, column) + "'" + f + "' is not finite: values must be finite");
        }
        if (f.isEmpty()) {
            return new DataFormatException(at(source, line, column) + "empty field is not a number");
        }
        return new DataFormatException(at(source, line, column) + "'" + f + "' is not a number");
    }

    private static String at(String source, int line, int column) {
        return source + " line " + line + ", column " + (column + 1) + ": ";
    }

    /**
     * Whether s is a plain decimal number: {@code [+-]? (d+ (. d*)? | . d+) ([eE] [+-]? d+)?}.
     * Stricter than {@link Float#parseFloat}, which also takes hexadecimal, {@code NaN},
     * {@code Infinity} and a trailing {@code f} or {@code d}, none of which belong in a CSV file.
     */
    static boolean isDecimal(String s) {
        int i = 0;
        final int n = s.length();
        if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
            i++;
        }
        final int intStart = i;
        while (i < n && isDigit(s.charAt(i))) {
            i++;
        }
        int digits = i - intStart;
        if (i < n && s.charAt(i) == '.') {
            i++;
            final int fracStart = i;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
            }
            digits += i - fracStart;
        }
        if (digits == 0) {
            return false;
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            i++;
            if (i < n && (s.charAt(i) == '+' || s.charAt(i) == '-')) {
                i++;
            }
            final int expStart = i;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
            }
            if (i == expStart) {
                return false;
            }
        }
        return i == n;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}

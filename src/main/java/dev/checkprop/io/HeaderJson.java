package dev.checkprop.io;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * A strict RFC 8259 pull reader over the UTF-8 bytes of a safetensors header, plus the string
 * escaping the writer needs.
 *
 * <p>It reads bytes rather than a decoded {@code String} so that every error can cite the exact
 * file offset. The caller drives it with the schema it expects, so unknown values are validated
 * and skipped without building a tree a hostile header could inflate. Nesting is limited to
 * {@link #MAX_DEPTH}, which bounds recursion whatever the input. Duplicate keys in any object are
 * rejected: they would make the header ambiguous.
 */
final class HeaderJson {

    /** Deepest nesting of arrays and objects accepted; a valid header needs 3. */
    static final int MAX_DEPTH = 64;

    /** Largest integer accepted: every integer up to it is exact in a double, as JSON readers assume. */
    static final long MAX_INTEGER = 1L << 53;

    /** Receives each member of an object; the reader is positioned at the member's value. */
    @FunctionalInterface
    interface Members {
        void member(String key, int keyPosition) throws SafeTensorsException;
    }

    /** Receives each element of an array; the reader is positioned at the element. */
    @FunctionalInterface
    interface Elements {
        void element(int index) throws SafeTensorsException;
    }

    private final byte[] buf;
    private final int start;
    private final int end;
    private final String source;
    private int pos;
    private int depth;

    /** Reads {@code buf[start, end)}, which sits at file offset 8 (just after the length prefix). */
    HeaderJson(byte[] buf, int start, int end, String source) {
        this.buf = buf;
        this.start = start;
        this.end = end;
        this.source = source;
        this.pos = start;
    }

    /** Rejects bytes that are not well-formed UTF-8, citing the offset of the first bad byte. */
    static void checkUtf8(byte[] buf, int start, int end, String source) throws SafeTensorsException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(buf, start, end - start);
        // A small reused output buffer: only validity matters, and the header may be 100 MB.
        CharBuffer out = CharBuffer.allocate(4096);
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                throw new SafeTensorsException(String.format("%s: header is not valid UTF-8 (at file offset %d)",
                        source, in.position() - start + 8L));
            }
            if (!result.isOverflow()) {
                return;
            }
            out.clear();
        }
    }

    /** An error at {@code position} in the buffer; the message cites the file offset. */
    SafeTensorsException error(int position, String detail) {
        return new SafeTensorsException(String.format("%s: %s (at file offset %d)",
                source, detail, position - start + 8L));
    }

    /** The current buffer position, after skipping whitespace. */
    int position() {
        skipWhitespace();
        return pos;
    }

    /** The next byte without skipping whitespace, or -1 at the end. */
    int peekRaw() {
        return pos < end ? buf[pos] & 0xFF : -1;
    }

    /** Fails unless only whitespace remains. */
    void expectEnd() throws SafeTensorsException {
        skipWhitespace();
        if (pos < end) {
            throw error(pos, "unexpected " + describe(pos) + " after the header object");
        }
    }

    void readObject(String what, Members members) throws SafeTensorsException {
        open('{', "an object", what);
        Set<String> keys = new HashSet<>();
        if (!closeIfNext('}')) {
            do {
                int keyPosition = position();
                String key = readString("a key in " + what);
                if (!keys.add(key)) {
                    throw error(keyPosition, "duplicate key " + quote(key) + " in " + what);
                }
                skipWhitespace();
                if (pos >= end || buf[pos] != ':') {
                    throw error(pos, "expected ':' after key " + quote(key) + " in " + what + ", found " + describe(pos));
                }
                pos++;
                members.member(key, keyPosition);
            } while (commaOrClose('}', what));
        }
        depth--;
    }

    void readArray(String what, Elements elements) throws SafeTensorsException {
        open('[', "an array", what);
        if (!closeIfNext(']')) {
            int index = 0;
            do {
                elements.element(index++);
            } while (commaOrClose(']', what));
        }
        depth--;
    }

    String readString(String what) throws SafeTensorsException {
        skipWhitespace();
        if (pos >= end || buf[pos] != '"') {
            throw error(pos, "expected a string for " + what + ", found " + describe(pos));
        }
        int opening = pos++;
        int run = pos;
        StringBuilder sb = null;
        while (true) {
            if (pos >= end) {
                throw error(opening, "unterminated string in " + what);
            }
            int b = buf[pos] & 0xFF;
            if (b == '"') {
                // Runs are split only at ASCII bytes, so each is whole UTF-8 (checked by checkUtf8).
                String tail = new String(buf, run, pos - run, StandardCharsets.UTF_8);
                pos++;
                return sb == null ? tail : sb.append(tail).toString();
            }
            if (b == '\\') {
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(new String(buf, run, pos - run, StandardCharsets.UTF_8));
                readEscape(sb, what);
                run = pos;
            } else if (b < 0x20) {
                throw error(pos, String.format("unescaped control character 0x%02x in a string in %s", b, what));
            } else {
                pos++;
            }
        }
    }

    /**
     * Reads an integer in [0, {@link #MAX_INTEGER}]. Fractions, exponents and signs are rejected
     * even when the value would be integral, as the reference reader does for sizes.
     */
    long readUnsignedInteger(String what) throws SafeTensorsException {
        int first = position();
        int last = scanNumber(what);
        String token = new String(buf, first, last - first, StandardCharsets.US_ASCII);
        boolean plainDigits = token.chars().allMatch(c -> c >= '0' && c <= '9');
        if (!plainDigits) {
            throw error(first, what + " must be a non-negative integer, found " + token);
        }
        // 16 digits cannot overflow a long; anything longer is above the limit anyway.
        if (token.length() > 16 || Long.parseLong(token) > MAX_INTEGER) {
            throw error(first, what + " is " + token + ", above the limit of 2^53");
        }
        return Long.parseLong(token);
    }

    /** Validates and discards one value of any type. */
    void skipValue(String what) throws SafeTensorsException {
        skipWhitespace();
        int b = peekRaw();
        switch (b) {
            case '{' -> readObject(what, (key, p) -> skipValue(what));
            case '[' -> readArray(what, i -> skipValue(what));
            case '"' -> readString(what);
            case 't' -> literal("true", what);
            case 'f' -> literal("false", what);
            case 'n' -> literal("null", what);
            default -> {
                if (b == '-' || (b >= '0' && b <= '9')) {
                    scanNumber(what);
                } else {
                    throw error(pos, "expected a JSON value in " + what + ", found " + describe(pos));
                }
            }
        }
    }

    /** Appends {@code s} as a JSON string, escaped as serde_json (the reference writer) does. */
    static void appendString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder();
        appendString(sb, s);
        return sb.toString();
    }

    private void open(char bracket, String kind, String what) throws SafeTensorsException {
        skipWhitespace();
        if (pos >= end || buf[pos] != bracket) {
            throw error(pos, "expected " + kind + " for " + what + ", found " + describe(pos));
        }
        if (depth == MAX_DEPTH) {
            throw error(pos, "JSON nested deeper than " + MAX_DEPTH + " levels in " + what);
        }
        depth++;
        pos++;
    }

    private boolean closeIfNext(char close) {
        skipWhitespace();
        if (pos < end && buf[pos] == close) {
            pos++;
            return true;
        }
        return false;
    }

    private boolean commaOrClose(char close, String what) throws SafeTensorsException {
        skipWhitespace();
        if (pos < end && buf[pos] == ',') {
            pos++;
            return true;
        }
        if (pos < end && buf[pos] == close) {
            pos++;
            return false;
        }
        throw error(pos, "expected ',' or '" + close + "' in " + what + ", found " + describe(pos));
    }

    private void readEscape(StringBuilder sb, String what) throws SafeTensorsException {
        int at = pos;
        if (pos + 1 >= end) {
            throw error(at, "unterminated escape in a string in " + what);
        }
        int c = buf[pos + 1] & 0xFF;
        pos += 2;
        switch (c) {
            case '"' -> sb.append('"');
            case '\\' -> sb.append('\\');
            case '/' -> sb.append('/');
            case 'b' -> sb.append('\b');
            case 'f' -> sb.append('\f');
            case 'n' -> sb.append('\n');
            case 'r' -> sb.append('\r');
            case 't' -> sb.append('\t');
            case 'u' -> {
                char unit = readHex4(at, what);
                if (Character.isHighSurrogate(unit)) {
                    // A lone surrogate is not a character: it could not be written back as UTF-8.
                    int low = pos;
                    if (pos + 1 < end && buf[pos] == '\\' && buf[pos + 1] == 'u') {
                        pos += 2;
                        char second = readHex4(low, what);
                        if (Character.isLowSurrogate(second)) {
                            sb.append(unit).append(second);
                            return;
                        }
                    }
                    throw error(at, "unpaired surrogate escape in a string in " + what);
                }
                if (Character.isLowSurrogate(unit)) {
                    throw error(at, "unpaired surrogate escape in a string in " + what);
                }
                sb.append(unit);
            }
            default -> throw error(at, "invalid escape '\\" + (char) c + "' in a string in " + what);
        }
    }

    private char readHex4(int escapeStart, String what) throws SafeTensorsException {
        if (pos + 4 > end) {
            throw error(escapeStart, "truncated \\u escape in a string in " + what);
        }
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int digit = Character.digit(buf[pos + i] & 0xFF, 16);
            if (digit < 0) {
                throw error(escapeStart, "invalid \\u escape in a string in " + what);
            }
            value = value * 16 + digit;
        }
        pos += 4;
        return (char) value;
    }

    /** Consumes one number in JSON grammar and returns the position just after it. */
    private int scanNumber(String what) throws SafeTensorsException {
        int first = pos;
        if (pos < end && buf[pos] == '-') {
            pos++;
        }
        if (pos < end && buf[pos] == '0') {
            pos++;
        } else if (!digits()) {
            throw error(first, "expected a number for " + what + ", found " + describe(first));
        }
        if (pos < end && buf[pos] == '.') {
            pos++;
            if (!digits()) {
                throw error(first, "malformed number in " + what);
            }
        }
        if (pos < end && (buf[pos] == 'e' || buf[pos] == 'E')) {
            pos++;
            if (pos < end && (buf[pos] == '+' || buf[pos] == '-')) {
                pos++;
            }
            if (!digits()) {
                throw error(first, "malformed number in " + what);
            }
        }
        return pos;
    }

    private boolean digits() {
        int first = pos;
        while (pos < end && buf[pos] >= '0' && buf[pos] <= '9') {
            pos++;
        }
        return pos > first;
    }

    private void literal(String word, String what) throws SafeTensorsException {
        for (int i = 0; i < word.length(); i++) {
            if (pos + i >= end || buf[pos + i] != word.charAt(i)) {
                throw error(pos, "expected a JSON value in " + what + ", found " + describe(pos));
            }
        }
        pos += word.length();
    }

    private void skipWhitespace() {
        while (pos < end) {
            byte b = buf[pos];
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return;
            }
            pos++;
        }
    }

    private String describe(int at) {
        if (at >= end) {
            return "end of header";
        }
        int b = buf[at] & 0xFF;
        return b > 0x20 && b < 0x7F ? "'" + (char) b + "'" : String.format("byte 0x%02x", b);
    }
}

package dev.checkprop.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds safetensors files by hand, by shifting bits, so tests do not trust the code under test. */
final class Bytes {

    private Bytes() {
    }

    /** The 8-byte little-endian length prefix, then the header exactly as given, then the data. */
    static byte[] file(String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        return concat(le64(json.length), json, data);
    }

    static byte[] le64(long v) {
        byte[] out = new byte[8];
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (v >>> (8 * i));
        }
        return out;
    }

    static byte[] le32(int... values) {
        byte[] out = new byte[4 * values.length];
        for (int k = 0; k < values.length; k++) {
            for (int i = 0; i < 4; i++) {
                out[4 * k + i] = (byte) (values[k] >>> (8 * i));
            }
        }
        return out;
    }

    static byte[] f32(float... values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return le32(bits);
    }

    static byte[] i64(long... values) {
        byte[][] parts = new byte[values.length][];
        for (int i = 0; i < values.length; i++) {
            parts[i] = le64(values[i]);
        }
        return concat(parts);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}

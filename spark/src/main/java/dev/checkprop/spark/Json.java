package dev.checkprop.spark;

import dev.checkprop.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/** Report files: a flat JSON object of numbers, strings and number arrays (no JSON library: Spark pins its own). */
final class Json {

    private Json() {
    }

    static void write(Map<String, Object> r, Path path) throws IOException {
        StringBuilder b = new StringBuilder("{\n");
        int n = 0;
        for (Map.Entry<String, Object> e : r.entrySet()) {
            b.append("  ").append(quote(e.getKey())).append(": ").append(value(e.getValue()));
            b.append(++n < r.size() ? ",\n" : "\n");
        }
        b.append("}\n");
        byte[] bytes = b.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(path, bytes);
    }

    private static String value(Object v) {
        if (v instanceof double[] a) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < a.length; i++) {
                b.append(i == 0 ? "" : ", ").append(number(a[i]));
            }
            return b.append(']').toString();
        }
        if (v instanceof Double d) {
            return number(d);
        }
        if (v instanceof Number) {
            return v.toString();
        }
        return quote(String.valueOf(v));
    }

    private static String number(double d) {
        return Double.isFinite(d) ? Double.toString(d) : quote(Double.toString(d));
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}

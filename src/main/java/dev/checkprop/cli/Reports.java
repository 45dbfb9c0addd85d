package dev.checkprop.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Writes report maps as indented JSON. */
final class Reports {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Reports() {
    }

    static void write(Map<String, Object> report, Path path) throws IOException {
        // Atomic like every other output: a report never replaces a good one half-written.
        byte[] bytes = JSON.writeValueAsBytes(report);
        dev.checkprop.io.AtomicFiles.write(path, bytes);
    }

    static String toJson(Map<String, Object> report) throws IOException {
        return JSON.writeValueAsString(report);
    }
}

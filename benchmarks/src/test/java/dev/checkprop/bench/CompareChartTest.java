package dev.checkprop.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The compare-torch.sh plot on a small hand-written results file (src/test/resources/compare-result.json). */
class CompareChartTest {

    @Test
    void intensityIsTheForwardProductsFlopsPerByte() {
        // 2*256*256*64 FLOPs over 4*(256*256 + 2*256*64) bytes
        assertEquals(2.0 * 256 * 256 * 64 / (4.0 * (256 * 256 + 2 * 256 * 64)), CompareChart.intensity(256, 64), 1e-12);
    }

    @Test
    void keepsOnlyPointsWithAFigureAndDrawsAPng(@TempDir Path dir) throws IOException {
        Path json = dir.resolve("results.json");
        try (InputStream in = CompareChartTest.class.getResourceAsStream("/compare-result.json")) {
            assertNotNull(in, "compare-result.json on the test class path");
            Files.copy(in, json);
        }
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        List<CompareChart.Point> points = CompareChart.points(root);
        assertEquals(6, points.size(), "the two failed runs have no point");
        assertEquals("torch", points.get(1).library());
        assertEquals(26.8, points.get(1).gflops());

        Path png = dir.resolve("results.png");
        CompareChart.writePng(json, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img);
        assertEquals(1200, img.getWidth());
        assertEquals(760, img.getHeight());
    }
}

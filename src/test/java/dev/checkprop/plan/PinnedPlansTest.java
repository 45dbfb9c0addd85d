package dev.checkprop.plan;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every dynamic program and every fallback of the planners writes exactly the plans it wrote before
 * their scaffolding (subproblem kinds, infinity, prefix costs, the plan emitter, the table limits)
 * was shared: the same name, the same number of actions and the same SHA-256 of the action list, on
 * the {@link PinnedPlans} sweep of about 5,800 inputs.
 */
class PinnedPlansTest {

    @Test
    void plansAreExactlyThoseWrittenBeforeTheSharedScaffolding() throws IOException {
        final List<String> expected = new ArrayList<>();
        try (InputStream in = PinnedPlansTest.class.getResourceAsStream(PinnedPlans.RESOURCE)) {
            assertNotNull(in, PinnedPlans.RESOURCE);
            final BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                expected.add(line);
            }
        }
        final List<String> actual = PinnedPlans.lines();
        assertEquals(expected.size(), actual.size(), "the sweep changed: regenerate only if planners are meant to change");
        final List<String> differ = new ArrayList<>();
        for (int i = 0; i < expected.size(); i++) {
            if (!expected.get(i).equals(actual.get(i))) {
                differ.add("expected " + expected.get(i) + "\n     got " + actual.get(i));
            }
        }
        assertTrue(differ.isEmpty(), differ.size() + " of " + expected.size() + " plans differ, e.g.\n"
                + String.join("\n", differ.subList(0, Math.min(5, differ.size()))));
        assertTrue(expected.size() > 5000, "the sweep covers " + expected.size() + " inputs");
    }
}

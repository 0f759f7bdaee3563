/** Adapter for the Ollama's native /api/chat (NDJSON streaming). */
@NullMarked
package dev.keel.models.ollama;

import org.jspecify.annotations.NullMarked;

/**
 * Adapter for the OpenAI Chat Completions (and every OpenAI-compatible server: vLLM, llama.cpp, LM
 * Studio, Ollama's /v1).
 */
@NullMarked
package dev.keel.models.openai;

import org.jspecify.annotations.NullMarked;

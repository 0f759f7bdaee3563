package dev.keel.tools;

import dev.keel.tool.Tool;
import dev.keel.tool.ToolSpec;

/** A tool that declares a full {@link ToolContract}; the only kind {@link ToolCatalog} accepts. */
public interface ContractedTool extends Tool {

  /** What the tool declares, including what the governed layer enforces. */
  ToolContract contract();

  /** The core spec, taken from the contract. */
  @Override
  default ToolSpec spec() {
    return contract().spec();
  }
}

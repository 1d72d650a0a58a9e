"""Talking to any OpenAI-compatible chat endpoint (Ollama, vLLM, llama.cpp, LM Studio, OpenAI).

python -c "from lexitune.llm import LLMClient, Request; from lexitune.config import EndpointConfig; print(LLMClient(EndpointConfig(model='gemma3:27b'), 'generate').run([Request([{'role': 'user', 'content': 'Say hi'}])])[0].text)"
"""

from lexitune.llm.client import LLMClient, Reply, Request, Usage
from lexitune.llm.extract import extract_json

__all__ = ["LLMClient", "Reply", "Request", "Usage", "extract_json"]

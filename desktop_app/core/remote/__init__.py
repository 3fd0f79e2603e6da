"""Models that run on a server: llama.cpp's llama-server (its native API) or any OpenAI-compatible one
(vLLM, SGLang, Ollama, llama-cpp-python's server). What such a server reports of each step, its
candidates' probabilities, goes through TokenDice's own sampler stages and die (:mod:`reported`)."""

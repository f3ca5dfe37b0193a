"""Where debates come from: yt-dlp sources, local files, the Assemblée nationale adapters."""

// The listener page: find a debate, play it (hls.js, else native HLS), jump between speakers,
// read along (captions and the compte rendu's paragraphs), follow a live sitting and an ingest in
// progress over Server-Sent Events; share a moment (/?debate=&t=&end= plays that range and stops),
// download an intervention, subscribe to feeds.
// Text from the API is only ever set with textContent, never parsed as HTML.
(function () {
  'use strict';

  const API = '/api/v1';
  const STAGES = {
    fetching: 'téléchargement de la source',
    probing: 'analyse',
    packaging: 'encodage',
    publishing: 'publication',
  };
  const dateFormat = new Intl.DateTimeFormat('fr-FR', {
    dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Paris',
  });

  const $ = (id) => document.getElementById(id);
  const audio = $('audio');

  const state = {
    debate: null,      // DebateDetail of the open debate
    chapters: [],
    current: -1,       // index in chapters of what is playing
    hls: null,
    events: null,      // EventSource
    jobId: null,       // ingest job followed for the open debate
    checkedJobs: new Set(),
    live: false,
    nextCursor: null,
    listUrl: null,
    reopening: null,   // id of the debate being re-read after its publish
    stopAt: null,      // end of a shared range being played (seconds), else null
    stopTimer: null,
    paragraphs: [],    // the compte rendu's paragraphs of the open debate (GET …/transcript)
    cues: [],          // its captions (transcript.vtt): {start, end, voice, text}
    paragraph: -1,     // index in paragraphs of what is being said
    scrolledAt: 0,     // when the listener last scrolled the transcript (it then stays where they put it)
    sleepChapter: null, // pause when this chapter ends
    sleepTimer: null,
  };
  const SCROLL_RESPECT_MS = 8000;

  // ---------- helpers ----------

  class ApiError extends Error {
    constructor(status, detail) { super(detail); this.status = status; }
  }

  // fresh: revalidate with the server (ETag) instead of trusting the browser's copy (max-age)
  async function getJSON(url, { fresh = false } = {}) {
    const response = await fetch(url, { headers: { Accept: 'application/json' }, cache: fresh ? 'no-cache' : 'default' });
    if (!response.ok) {
      let detail = response.statusText;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new ApiError(response.status, detail);
    }
    return response.json();
  }

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) {
      if (child != null) node.append(child); // strings become text nodes
    }
    return node;
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    const mm = String(m).padStart(h ? 2 : 1, '0');
    return (h ? h + ':' : '') + mm + ':' + String(s % 60).padStart(2, '0');
  }

  // "1:02:03", "2:05", "125" or "12.5" → seconds; NaN when it is none of these
  function parseClock(text) {
    const parts = String(text).trim().split(':');
    if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return NaN;
    return parts.reduce((total, part) => total * 60 + Number(part), 0);
  }

  function when(iso) {
    return iso ? dateFormat.format(new Date(iso)) : 'date inconnue';
  }

  function speakerLabel(speaker) {
    if (!speaker) return 'Intervenant inconnu';
    return speaker.group ? `${speaker.name} (${speaker.group})` : speaker.name;
  }

  function showMessage(text) {
    const box = $('player-message');
    box.textContent = text || '';
    box.hidden = !text;
  }

  // ---------- list and search ----------

  function debateItem(debate) {
    const link = el('a', { href: '?debate=' + encodeURIComponent(debate.id), className: 'debate-link' },
      el('span', { className: 'title', textContent: debate.title }));
    link.dataset.debateId = debate.id;
    const meta = [when(debate.starts_at)];
    if (debate.duration) meta.push(clock(debate.duration));
    if (debate.speakers_count) {
      meta.push(debate.speakers_count + (debate.speakers_count > 1 ? ' intervenants' : ' intervenant'));
    }
    link.append(el('span', { className: 'meta', textContent: meta.join(' · ') }));
    if (debate.status === 'live') link.append(el('span', { className: 'badge live', textContent: 'En direct' }));
    if (debate.status === 'processing') {
      link.append(el('span', { className: 'badge', textContent: 'En préparation' }));
    }
    link.addEventListener('click', (event) => {
      event.preventDefault();
      openDebate(debate.id, { push: true });
    });
    return el('li', {}, link);
  }

  async function loadList(url, { append = false, status = '' } = {}) {
    const list = $('debate-list');
    $('list-status').textContent = 'Chargement…';
    try {
      const page = await getJSON(url);
      if (!append) list.replaceChildren();
      for (const debate of page.items) list.append(debateItem(debate));
      state.listUrl = url;
      state.nextCursor = page.next_cursor;
      $('more').hidden = !page.next_cursor;
      $('list-status').textContent = list.children.length ? status : 'Aucun débat pour l’instant.';
    } catch (error) {
      $('list-status').textContent = 'Liste indisponible : ' + error.message;
    }
  }

  function loadDebates() {
    $('list-title').textContent = 'Débats';
    return loadList(API + '/debates?limit=20');
  }

  function searchHit(hit) {
    if (hit.kind === 'speaker') {
      const button = el('button', { type: 'button', className: 'debate-link' },
        el('span', { className: 'title', textContent: hit.title }),
        el('span', { className: 'meta', textContent: hit.group ? 'Député · ' + hit.group : 'Député' }));
      button.addEventListener('click', () => {
        $('list-title').textContent = 'Débats où ' + hit.title + ' est intervenu';
        loadList(API + '/debates?limit=20&speaker_id=' + encodeURIComponent(hit.speaker_id));
      });
      return el('li', {}, button);
    }
    const link = el('a', {
      href: '?debate=' + encodeURIComponent(hit.debate_id) + (hit.start != null ? '&t=' + hit.start : ''),
      className: 'debate-link',
    }, el('span', { className: 'title', textContent: hit.kind === 'chapter' ? hit.debate_title : hit.title }));
    link.dataset.debateId = hit.debate_id;
    link.dataset.kind = hit.kind;
    const meta = [when(hit.starts_at)];
    if (hit.kind === 'chapter') meta.unshift(clock(hit.start) + ' · ' + speakerLabel(hit.speaker));
    // a passage's title is the excerpt of what was said; where and by whom follows
    if (hit.kind === 'passage') meta.unshift(hit.debate_title + ' · ' + clock(hit.start) + ' · ' + speakerLabel(hit.speaker));
    link.append(el('span', { className: 'meta', textContent: meta.join(' · ') }));
    link.addEventListener('click', (event) => {
      event.preventDefault();
      openDebate(hit.debate_id, { push: true, start: hit.start });
    });
    return el('li', {}, link);
  }

  async function search(q) {
    const list = $('debate-list');
    $('list-title').textContent = 'Résultats pour « ' + q + ' »';
    $('list-status').textContent = 'Recherche…';
    $('more').hidden = true;
    try {
      const page = await getJSON(API + '/search?limit=30&q=' + encodeURIComponent(q));
      list.replaceChildren(...page.items.map(searchHit));
      $('list-status').textContent = page.items.length
        ? page.items.length + ' résultat(s)'
        : 'Aucun résultat : essayez d’autres mots.';
    } catch (error) {
      $('list-status').textContent = 'Recherche impossible : ' + error.message;
    }
  }

  // ---------- player ----------

  function stopPlayer() {
    if (state.hls) { state.hls.destroy(); state.hls = null; }
    audio.removeAttribute('src');
    audio.load();
  }

  function play(stream, start) {
    stopPlayer();
    showMessage('');
    const begin = () => audio.play().catch(() => { /* autoplay refused: the controls are there */ });
    if (window.Hls && window.Hls.isSupported()) {
      // MSE through hls.js first: Chromium answers "maybe" to native HLS without playing it
      const hls = new window.Hls({ enableWorker: false, startPosition: start != null ? start : -1 });
      hls.on(window.Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return;
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) { hls.recoverMediaError(); return; }
        if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) { hls.startLoad(); return; }
        showMessage('Lecture impossible (' + data.details + ').');
      });
      // captions are drawn by this page from transcript.vtt: the light build has no subtitle support
      hls.on(window.Hls.Events.MANIFEST_PARSED, begin);
      hls.loadSource(stream.master_url);
      hls.attachMedia(audio);
      state.hls = hls;
    } else if (audio.canPlayType('application/vnd.apple.mpegurl')) {
      audio.src = stream.master_url;  // Safari, iOS
      audio.addEventListener('loadedmetadata', () => {
        if (start != null) audio.currentTime = start;
        begin();
      }, { once: true });
    } else {
      showMessage('Ce navigateur ne sait pas lire le HLS ; le téléchargement reste possible.');
    }
  }

  // ---------- words: captions and the transcript panel ----------

  // transcript.vtt as this page needs it: cue times, the voice span's name and the plain text
  function parseVtt(text) {
    const cues = [];
    const time = (t) => t.split(':').reduce((total, part) => total * 60 + Number(part), 0);
    for (const block of text.replace(/\r/g, '').split(/\n\n+/)) {
      const lines = block.split('\n');
      const at = lines.findIndex((line) => line.includes('-->'));
      if (at < 0) continue;
      const [start, end] = lines[at].split('-->').map((part) => time(part.trim().split(/\s/)[0]));
      const raw = lines.slice(at + 1).join(' ');
      const voice = /<v(?:\.[^\s>]+)*\s+([^>]+)>/.exec(raw);
      const words = raw.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      cues.push({ start, end, voice: voice ? voice[1].replace(/&amp;/g, '&') : '', text: words.trim() });
    }
    return cues;
  }

  function captionsOn() { return localStorage.getItem('robian.captions') === 'on'; }

  function showCaption(seconds) {
    const box = $('captions');
    box.hidden = !captionsOn() || !state.cues.length;
    if (box.hidden) return;
    const cue = state.cues.find((c) => c.start <= seconds + 0.05 && seconds < c.end);
    const speaker = cue ? cue.voice : '';
    const text = cue ? cue.text : '';
    // aria-live announces changes only: untouched while the same cue is shown
    if ($('caption-text').textContent !== text) {
      $('caption-speaker').textContent = speaker;
      $('caption-text').textContent = text;
    }
  }

  function renderTranscript() {
    const list = $('transcript');
    list.replaceChildren();
    state.paragraphs.forEach((paragraph, i) => {
      const button = el('button', { type: 'button', className: 'paragraph' },
        el('span', { className: 'who', textContent: clock(paragraph.start) + ' · ' + speakerLabel(paragraph.speaker) }),
        el('span', { className: 'said', textContent: paragraph.text }));
      button.dataset.index = String(i);
      button.dataset.start = String(paragraph.start);
      button.addEventListener('click', () => seek(paragraph.start));
      list.append(el('li', {}, button));
    });
    $('transcript-box').hidden = !state.paragraphs.length;
    $('captions-toggle').hidden = !state.cues.length;
    state.paragraph = -1;
  }

  function followTranscript(seconds) {
    let index = -1;
    for (let i = 0; i < state.paragraphs.length; i++) {
      if (state.paragraphs[i].start <= seconds + 0.05) index = i; else break;
    }
    if (index === state.paragraph) return;
    state.paragraph = index;
    for (const button of $('transcript').querySelectorAll('button.paragraph')) {
      const current = Number(button.dataset.index) === index;
      if (current) button.setAttribute('aria-current', 'true'); else button.removeAttribute('aria-current');
      // into view, unless the listener is reading elsewhere in the panel
      if (current && Date.now() - state.scrolledAt > SCROLL_RESPECT_MS) {
        const list = $('transcript');
        list.scrollTop = button.offsetTop - list.offsetTop - list.clientHeight / 3;
      }
    }
  }

  async function loadWords(debate) {
    state.paragraphs = [];
    state.cues = [];
    renderTranscript();
    showCaption(0);
    if (!debate.stream || !debate.stream.transcript_url) return;
    try {
      const [transcript, vtt] = await Promise.all([
        getJSON(debateUrl(debate.id) + '/transcript'),
        fetch(debate.stream.transcript_url).then((r) => (r.ok ? r.text() : '')),
      ]);
      if (!state.debate || state.debate.id !== debate.id) return;
      state.paragraphs = transcript.paragraphs;
      state.cues = parseVtt(vtt);
      renderTranscript();
      followTranscript(audio.currentTime);
      showCaption(audio.currentTime);
    } catch (_) { /* the audio plays on without its words */ }
  }

  function setCaptions(on) {
    localStorage.setItem('robian.captions', on ? 'on' : 'off');
    $('captions-toggle').setAttribute('aria-pressed', on ? 'true' : 'false');
    showCaption(audio.currentTime);
  }

  // ---------- speed and sleep timer ----------

  function setSpeed(value) {
    const rate = Number(value);
    if (!(rate >= 0.75 && rate <= 2)) return;
    audio.playbackRate = rate;
    audio.defaultPlaybackRate = rate;
    localStorage.setItem('robian.speed', String(rate));
    $('speed').value = String(rate);
  }

  function setSleep(value) {
    clearTimeout(state.sleepTimer);
    state.sleepTimer = null;
    state.sleepChapter = null;
    const stop = () => { audio.pause(); $('sleep').value = ''; state.sleepChapter = null; };
    if (value === 'chapter') state.sleepChapter = chapterAt(audio.currentTime);
    else if (value) state.sleepTimer = setTimeout(stop, Number(value) * 60000);
    state.stopForSleep = stop;
  }

  function seek(seconds) {
    if (audio.readyState === 0) {
      // nothing loaded yet: seek as soon as the media knows its timeline
      audio.addEventListener('loadedmetadata', () => { audio.currentTime = seconds; }, { once: true });
    } else {
      audio.currentTime = seconds;
    }
    if (audio.paused) audio.play().catch(() => {});
  }

  function renderChapters() {
    const list = $('chapters');
    list.replaceChildren();
    state.chapters.forEach((chapter, i) => {
      // named by its visible words (WCAG 2.5.3), after what it does for a screen reader
      const button = el('button', { type: 'button', className: 'chapter' },
        el('span', { className: 'sr-only', textContent: 'Écouter à partir de ' }),
        el('span', { className: 'time', textContent: clock(chapter.start) }), ' ',
        el('span', { className: 'who', textContent: speakerLabel(chapter.speaker) }), ' ',
        chapter.title ? el('span', { className: 'what', textContent: chapter.title }) : null);
      button.dataset.index = String(i);
      button.dataset.start = String(chapter.start);
      // the name is the visible text (a voice-control user says what they see, WCAG 2.5.3);
      // what the button does is its description
      button.title = 'Écouter à partir de ' + clock(chapter.start) + ' : ' + speakerLabel(chapter.speaker);
      button.addEventListener('click', () => seek(chapter.start));
      list.append(el('li', {}, button));
    });
    state.current = -1;
    highlight(audio.currentTime);
  }

  function chapterAt(seconds) {
    let found = -1;
    for (let i = 0; i < state.chapters.length; i++) {
      if (state.chapters[i].start <= seconds + 0.05) found = i; else break;
    }
    return found;
  }

  function highlight(seconds) {
    const index = chapterAt(seconds);
    if (state.sleepChapter != null && index > state.sleepChapter && !audio.paused) state.stopForSleep();
    if (index === state.current) return;
    state.current = index;
    for (const button of $('chapters').querySelectorAll('button.chapter')) {
      if (Number(button.dataset.index) === index) button.setAttribute('aria-current', 'true');
      else button.removeAttribute('aria-current');
    }
    if (!state.live) {
      $('now-label').textContent = 'Intervenant en cours :';
      $('now-speaking').textContent = index >= 0 ? speakerLabel(state.chapters[index].speaker) : '—';
    }
    showInterventionLinks(index >= 0 ? state.chapters[index] : null);
  }

  // ---------- clips, sharing, feeds ----------

  function showInterventionLinks(chapter) {
    const debate = state.debate;
    const published = Boolean(debate && debate.stream && !state.live && debate.status === 'published');
    const clip = $('download-intervention');
    clip.hidden = !(published && chapter);
    if (!clip.hidden) {
      clip.href = debateUrl(debate.id) + '/chapters/' + encodeURIComponent(chapter.index) + '/clip.m4a';
    }
    const speaker = chapter && chapter.speaker;
    const subscribe = $('subscribe-speaker');
    subscribe.hidden = !(published && speaker && speaker.id);
    if (!subscribe.hidden) {
      subscribe.href = API + '/feeds/speakers/' + encodeURIComponent(speaker.id) + '.rss';
      subscribe.textContent = 'Interventions de ' + speakerLabel(speaker);
    }
  }

  function showFeeds(debate) {
    const published = Boolean(debate.stream && debate.status === 'published');
    $('subscribe').hidden = !published;
    $('share').hidden = !published;
    const body = $('subscribe-body');
    const filter = debate.body ? '?body=' + encodeURIComponent(debate.body) : '';
    body.href = API + '/feeds/debates.rss' + filter;
    body.textContent = debate.body ? 'Séances : ' + debate.body : 'Toutes les séances';
  }

  // the share form's defaults: from now to the end of this intervention
  function fillShare() {
    const now = Math.floor(audio.currentTime || 0);
    const index = chapterAt(now);
    const duration = (state.debate && state.debate.duration) || audio.duration || now + 60;
    const end = index >= 0 && state.chapters[index].end ? state.chapters[index].end : duration;
    $('share-start').value = clock(now);
    $('share-end').value = clock(Math.max(Math.ceil(end), now + 1));
    updateShare();
  }

  function updateShare() {
    const start = parseClock($('share-start').value);
    const end = parseClock($('share-end').value);
    const duration = (state.debate && state.debate.duration) || Infinity;
    let problem = '';
    if (!Number.isFinite(start)) problem = 'Le début doit s’écrire min:s (par exemple 2:05).';
    else if (!Number.isFinite(end)) problem = 'La fin doit s’écrire min:s (par exemple 3:40).';
    else if (end <= start) problem = 'La fin doit venir après le début.';
    else if (start >= duration) problem = 'Le début dépasse la fin de la séance.';
    $('share-start').setAttribute('aria-invalid', String(!Number.isFinite(start) || start >= duration));
    $('share-end').setAttribute('aria-invalid', String(Number.isFinite(start) && !(end > start)));
    $('share-status').textContent = problem;
    $('share-url').value = problem ? '' : location.origin + '/?debate=' + encodeURIComponent(state.debate.id)
      + '&t=' + start + '&end=' + Math.min(end, duration);
    $('share-copy').disabled = Boolean(problem);
  }

  async function copyShare() {
    const url = $('share-url').value;
    if (!url) return;
    try {
      await navigator.clipboard.writeText(url);
    } catch (_) {
      $('share-url').select();  // no clipboard access: selected, ready for the listener to copy
      $('share-status').textContent = 'Lien sélectionné : copiez-le.';
      return;
    }
    $('share-status').textContent = 'Lien copié.';
  }

  // a shared range: play it and stop at its end (checked often: timeupdate comes every 250 ms)
  function stopRangeAt(end) {
    clearInterval(state.stopTimer);
    state.stopAt = end;
    state.stopTimer = end == null ? null : setInterval(checkRangeEnd, 50);
  }

  function checkRangeEnd() {
    if (state.stopAt == null || audio.currentTime < state.stopAt) return;
    audio.pause();
    $('range-status').textContent = 'Fin de l’extrait partagé (' + clock(state.stopAt) + ').';
    stopRangeAt(null);
  }

  function step(delta) {
    const target = Math.min(Math.max(chapterAt(audio.currentTime) + delta, 0), state.chapters.length - 1);
    if (target >= 0) seek(state.chapters[target].start);
  }

  function setLive(live) {
    state.live = live;
    $('live-badge').hidden = !live;
    if (live) {
      $('now-label').textContent = 'En ce moment au micro :';
      $('download').hidden = true;  // the whole sitting is downloadable once it has ended
    }
  }

  function showJob(job) {
    const box = $('job');
    if (!job || job.status === 'succeeded') { box.hidden = true; return; }
    box.hidden = false;
    $('job-stage').textContent = job.status === 'failed'
      ? 'échec (' + (job.error || 'raison inconnue') + ')'
      : (STAGES[job.stage] || job.status) + ' — ' + Math.round((job.progress || 0) * 100) + '\u00a0%';
    $('job-progress').value = Math.round((job.progress || 0) * 100);
  }

  const debateUrl = (id) => API + '/debates/' + encodeURIComponent(id);
  const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

  async function openDebate(id, { push = false, start = null, end = null, jobId = null, loaded = null } = {}) {
    if (push) {
      const at = start != null ? '&t=' + start : '';
      history.pushState({ debate: id }, '', '?debate=' + encodeURIComponent(id) + at);
    }
    let debate = loaded;
    try {
      debate = debate || await getJSON(debateUrl(id));
    } catch (error) {
      $('player').hidden = false;
      $('debate-title').textContent = 'Débat introuvable';
      showMessage(error.message);
      return;
    }
    state.debate = debate;
    state.chapters = debate.chapters || [];
    state.jobId = jobId;
    state.checkedJobs.clear();
    $('player').hidden = false;
    $('debate-title').textContent = debate.title;
    const meta = [when(debate.starts_at)];
    if (debate.body) meta.push(debate.body);
    if (debate.duration) meta.push(clock(debate.duration));
    $('debate-meta').textContent = meta.join(' · ');
    $('now-speaking').textContent = '—';
    setLive(debate.status === 'live' || Boolean(debate.stream && debate.stream.live));
    $('range-status').textContent = '';
    stopRangeAt(end != null && start != null && end > start && debate.stream ? end : null);
    showFeeds(debate);
    $('share').open = false;
    renderChapters();
    const download = $('download');
    download.hidden = !debate.stream || state.live;
    if (debate.stream) download.href = debate.stream.download_url;
    showJob(null);
    if (debate.stream) {
      play(debate.stream, start);
    } else {
      stopPlayer();
      showMessage(debate.status === 'processing'
        ? 'Ce débat est en préparation : la lecture commencera dès les premières minutes prêtes.'
        : 'Ce débat n’a pas encore d’audio.');
    }
    loadWords(debate);
    if (jobId) refreshJob(jobId);
    follow(debate);
    if (push) $('player').focus();
  }

  async function refreshChapters(id) {
    try {
      const chapters = await getJSON(API + '/debates/' + encodeURIComponent(id) + '/chapters');
      if (state.debate && state.debate.id === id) {
        state.chapters = chapters;
        renderChapters();
      }
    } catch (_) { /* keep the list we have */ }
  }

  async function refreshJob(jobId) {
    let job;
    try { job = await getJSON(API + '/jobs/' + encodeURIComponent(jobId), { fresh: true }); } catch (_) { return; }
    showJob(job);
    // done before this page followed its events: the debate we hold is out of date
    if (job.status === 'succeeded' && state.debate && state.debate.status === 'processing') {
      reopenWhenPublished(state.debate.id);
    }
  }

  // Published: play the final version from where the listener is. API nodes may answer from
  // their cache for a second after the publish: ask again until the debate says so.
  async function reopenWhenPublished(id) {
    if (state.reopening === id) return;
    state.reopening = id;
    try {
      for (let attempt = 0; attempt < 10; attempt++) {
        const fresh = await getJSON(debateUrl(id), { fresh: true }).catch(() => null);
        if (!state.debate || state.debate.id !== id) return;
        if (fresh && fresh.stream && fresh.status !== 'processing') {
          openDebate(id, { start: audio.currentTime || null, jobId: state.jobId, loaded: fresh });
          return;
        }
        await sleep(1000);
      }
    } finally {
      state.reopening = null;
    }
  }

  // ---------- live events ----------

  function follow(debate) {
    if (state.events) state.events.close();
    document.body.dataset.events = 'connecting';
    // live:{id} and debate:{id} always: a sitting can go live while the page is open
    const channels = ['debate:' + debate.id, 'live:' + debate.id];
    if (state.jobId) channels.push('job:' + state.jobId);
    else if (debate.status === 'processing') channels.push('jobs');  // learn which job is ours
    const source = new EventSource(API + '/events?channels=' + encodeURIComponent(channels.join(',')));
    source.addEventListener('open', () => { document.body.dataset.events = 'open'; });
    source.addEventListener('error', () => { document.body.dataset.events = 'reconnecting'; });
    const on = (type, handler) => source.addEventListener(type, (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (_) { return; }
      if (state.debate && state.debate.id === debate.id) handler(event.data || {}, event.channel);
    });
    on('live.started', () => setLive(true));
    on('live.speaker', (data) => {
      setLive(true);
      $('now-speaking').textContent = speakerLabel(data.speaker);
      refreshChapters(debate.id);  // a live sitting's list grows with each new speaker
    });
    on('live.ended', () => {
      setLive(false);
      $('now-label').textContent = 'Séance terminée. Dernier intervenant :';
    });
    on('job.progress', (data) => {
      if (data.job_id === state.jobId) { showJob({ status: 'running', ...data }); return; }
      if (state.jobId || state.checkedJobs.has(data.job_id)) return;
      state.checkedJobs.add(data.job_id);
      getJSON(API + '/jobs/' + encodeURIComponent(data.job_id)).then((job) => {
        if (job.debate_id === debate.id && !state.jobId) { state.jobId = job.id; showJob(job); }
      }).catch(() => {});
    });
    on('job.failed', (data) => { if (data.job_id === state.jobId) refreshJob(data.job_id); });
    on('job.succeeded', (data) => { if (data.job_id === state.jobId) reopenWhenPublished(debate.id); });
    on('debate.published', () => { if (state.debate.status !== 'published') reopenWhenPublished(debate.id); });
    state.events = source;
  }

  // ---------- wiring ----------

  function fromLocation() {
    const params = new URLSearchParams(location.search);
    const id = params.get('debate');
    if (id) {
      const t = Number(params.get('t'));
      const end = params.has('end') ? Number(params.get('end')) : NaN;
      openDebate(id, {
        start: Number.isFinite(t) && t >= 0 ? t : null,
        end: Number.isFinite(end) ? end : null,
        jobId: params.get('job'),
      });
    }
  }

  // the listener went elsewhere on purpose: the shared range no longer holds
  audio.addEventListener('seeking', () => { if (state.stopAt != null && audio.currentTime > state.stopAt) stopRangeAt(null); });
  $('share').addEventListener('toggle', () => { if ($('share').open) fillShare(); });
  $('share-start').addEventListener('input', updateShare);
  $('share-end').addEventListener('input', updateShare);
  $('share-copy').addEventListener('click', copyShare);
  const onTime = () => {
    highlight(audio.currentTime);
    followTranscript(audio.currentTime);
    showCaption(audio.currentTime);
    checkRangeEnd();
  };
  audio.addEventListener('timeupdate', onTime);
  audio.addEventListener('seeked', onTime);
  // a new source resets the rate: keep the listener's
  audio.addEventListener('loadedmetadata', () => setSpeed(localStorage.getItem('robian.speed') || '1'));
  for (const type of ['wheel', 'touchmove', 'keydown']) {
    $('transcript').addEventListener(type, () => { state.scrolledAt = Date.now(); }, { passive: true });
  }
  $('captions-toggle').addEventListener('click', () => setCaptions(!captionsOn()));
  $('captions-toggle').setAttribute('aria-pressed', captionsOn() ? 'true' : 'false');
  $('speed').addEventListener('change', (event) => setSpeed(event.target.value));
  $('sleep').addEventListener('change', (event) => setSleep(event.target.value));
  setSpeed(localStorage.getItem('robian.speed') || '1');
  $('prev-chapter').addEventListener('click', () => step(-1));
  $('next-chapter').addEventListener('click', () => step(1));
  $('more').addEventListener('click', () => {
    if (state.nextCursor && state.listUrl) {
      const url = state.listUrl.replace(/&cursor=[^&]*/, '') + '&cursor=' + encodeURIComponent(state.nextCursor);
      loadList(url, { append: true });
    }
  });
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const q = $('search-input').value.trim();
    if (q) search(q); else loadDebates();
  });
  window.addEventListener('popstate', fromLocation);

  loadDebates();
  fromLocation();
})();

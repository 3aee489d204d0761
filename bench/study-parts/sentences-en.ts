/**
 * 20 short English movie-review sentences in the shape of mSST (one sentence, a sentiment label, the words a
 * reader marks as the reason), written for the 7B study bench (bench/study-parts/7b.ts). Not from any dataset.
 */
export interface BenchSentence {
  id: string;
  text: string;
  label: 'positive' | 'negative';
  rationale: string[];
}

export const BENCH_SENTENCES_EN: BenchSentence[] = [
  { id: 'b-1', text: 'A tender, clever film that earns every one of its tears.', label: 'positive', rationale: ['tender,', 'clever', 'earns'] },
  { id: 'b-2', text: 'The dialogue is stiff and the pacing drags badly.', label: 'negative', rationale: ['stiff', 'drags', 'badly.'] },
  { id: 'b-3', text: 'Gorgeous to look at and surprisingly funny.', label: 'positive', rationale: ['Gorgeous', 'funny.'] },
  { id: 'b-4', text: 'An empty, noisy sequel nobody asked for.', label: 'negative', rationale: ['empty,', 'noisy', 'nobody'] },
  { id: 'b-5', text: 'The cast is superb and the script never talks down to us.', label: 'positive', rationale: ['superb', 'never'] },
  { id: 'b-6', text: 'I checked my watch more often than I laughed.', label: 'negative', rationale: ['checked', 'watch'] },
  { id: 'b-7', text: 'A quiet triumph, warm and wise.', label: 'positive', rationale: ['triumph,', 'warm', 'wise.'] },
  { id: 'b-8', text: 'Its twists are obvious from the first scene.', label: 'negative', rationale: ['obvious'] },
  { id: 'b-9', text: 'Sharp writing and a lead performance full of heart.', label: 'positive', rationale: ['Sharp', 'heart.'] },
  { id: 'b-10', text: 'A tedious mess with a wasted cast.', label: 'negative', rationale: ['tedious', 'mess', 'wasted'] },
  { id: 'b-11', text: 'The music alone makes it worth seeing.', label: 'positive', rationale: ['worth', 'seeing.'] },
  { id: 'b-12', text: 'Flat jokes, flat characters, flat everything.', label: 'negative', rationale: ['Flat', 'flat'] },
  { id: 'b-13', text: 'An honest, moving story told with real care.', label: 'positive', rationale: ['honest,', 'moving', 'care.'] },
  { id: 'b-14', text: 'The ending is so silly it undoes the whole film.', label: 'negative', rationale: ['silly', 'undoes'] },
  { id: 'b-15', text: 'Fresh, fast and full of surprises.', label: 'positive', rationale: ['Fresh,', 'surprises.'] },
  { id: 'b-16', text: 'A dull lecture dressed up as a thriller.', label: 'negative', rationale: ['dull', 'lecture'] },
  { id: 'b-17', text: 'Every frame feels alive.', label: 'positive', rationale: ['alive.'] },
  { id: 'b-18', text: 'Too long, too loud and never once exciting.', label: 'negative', rationale: ['long,', 'loud', 'never'] },
  { id: 'b-19', text: 'A delightful surprise from start to finish.', label: 'positive', rationale: ['delightful', 'surprise'] },
  { id: 'b-20', text: 'The actors seem as bored as the audience.', label: 'negative', rationale: ['bored'] },
];

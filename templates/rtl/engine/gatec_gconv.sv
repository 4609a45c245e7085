// Gate mode of the conv unit (CONV h0 bit 7, docs/engine.md "Channel gating"): a gated conv,
// pixel by pixel. Per output pixel:
//  - the load walker copies the pixel's receptive field from the in buffer into a receptive-field
//    buffer (one word per cycle, padding taps as zero-point words), packing two byte streams: the
//    base channels of consecutive taps side by side into RFB, and the rest channels likewise into
//    RFR (PeOc consecutive rest words per row). A word's bytes land at any lane offset and may
//    straddle two buffer words, so each buffer is two banks (even and odd words, or rows) that
//    take one rotated copy of the word each, with byte enables. Both are double-buffered: the next
//    pixel loads while this one computes.
//  - base pass: every group's base taps in the dense way (one RFB word broadcast to all rows);
//    at a group's last tap the gate unit compares each lane's base sum with its threshold and
//    stores sum + bias, multiplier, shift and the gate bit in the accumulator RAM.
//  - rest pass (reduction mode): the gated-on channels, picked from the gate bits by a priority
//    encoder as they become known; for one channel the PeOc rows take PeOc different rest words
//    (one RFR row) and the weight word holds that channel's weights for them, and one adder tree
//    sums the rows: crest cycles per gated-on output, no idle lanes.
//  - emission: once the pixel's last sum is in, its groups go to the requant bank and output
//    writer (acc_base + rest where the gate is on) while the next pixel computes.
// The PE array is the conv unit's; this module drives its per-row activations.
module gatec_gconv #(
  parameter int unsigned PeOc         = 8,
  parameter int unsigned L            = 8,
  parameter int unsigned InAddrWidth  = 16,
  parameter int unsigned WAddrWidth   = 16,
  parameter int unsigned PAddrWidth   = 6,
  parameter int unsigned OutAddrWidth = 16,
  // words each receptive-field buffer holds per pixel (base words, and rest words)
  parameter int unsigned RfWords      = 1024,
  // groups (PeOc output channels each) a gated conv may have
  parameter int unsigned MaxGroups    = 32,
  // in-buffer words per buffer row: the load walker takes two words of one row at once
  parameter int unsigned WordsPerRow  = 1,
  localparam int unsigned LaneIdxWidth = (L > 1) ? $clog2(L) : 1,
  localparam int unsigned WordCntWidth = $clog2(((PeOc > L) ? PeOc / L : 1) + 1)
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  input  logic                        start_i,
  input  logic [511:0]                instr_i,
  output logic                        busy_o,
  output logic                        in_re_o,
  output logic [InAddrWidth-1:0]      in_addr_o,
  input  logic [L*8-1:0]              in_word_i,
  // the word after in_word_i in its in-buffer row
  input  logic [L*8-1:0]              in_word2_i,
  output logic                        w_re_o,
  output logic [WAddrWidth-1:0]       w_addr_o,
  output logic                        p_re_o,
  output logic [PAddrWidth-1:0]       p_addr_o,
  input  logic [PeOc*64-1:0]          p_row_i,
  // to the PE array (valid with the weight word, the cycle after w_re_o) and back (3 cycles later)
  output logic                        pe_valid_o,
  output logic [PeOc*L*9-1:0]         pe_x_o,
  input  logic [PeOc*32-1:0]          pe_sum_i,
  input  logic                        wr_busy_i,
  output logic                        res_valid_o,
  output logic [PeOc*32-1:0]          res_acc_o,
  output logic [PeOc*15-1:0]          res_mult_o,
  output logic [PeOc*6-1:0]           res_shift_o,
  output logic [OutAddrWidth-1:0]     res_addr_o,
  output logic [WordCntWidth-1:0]     res_words_o,
  output logic [OutAddrWidth-1:0]     res_stride_o,
  output logic [LaneIdxWidth-1:0]     res_lane_o,
  output logic signed [7:0]           zp_out_o,
  output logic signed [7:0]           lo_o,
  output logic signed [7:0]           hi_o,
  // one gated-on output activation picked for its rest pass this cycle
  output logic                        gate_on_o
);
  localparam int unsigned AW = 24;
  localparam int unsigned CW = 18;
  localparam int unsigned WordsPerPixel = (PeOc > L) ? PeOc / L : 1;
  localparam int unsigned GW = (MaxGroups > 1) ? $clog2(MaxGroups) : 1;
  localparam int unsigned RW = (PeOc > 1) ? $clog2(PeOc) : 1;
  localparam int unsigned BW = (RfWords > 1) ? $clog2(RfWords) : 1;
  localparam int unsigned RestRows = (RfWords > PeOc) ? RfWords / PeOc : 1;
  localparam int unsigned EW = 32 + 15 + 6 + 1;
  localparam int unsigned GapW = $clog2(WordsPerPixel + 1);
  localparam int unsigned LgL = $clog2(L);
  localparam int unsigned LgP = $clog2(PeOc);
  // byte positions in a packed stream, and lane counts 0..L
  localparam int unsigned PW = BW + LgL + 2;
  localparam int unsigned NW = LaneIdxWidth + 1;
  // rows of one RFR bank per half (even rows in bank 0, odd rows in bank 1)
  localparam int unsigned RBRows = (RestRows > 1) ? RestRows / 2 : 1;
  localparam int unsigned LgRB = $clog2(RBRows);
  // the walker pairs words when a row holds two and the rest stream's three words span two rows
  localparam bit Pair = (WordsPerRow > 1) && (PeOc > 1);
  localparam int unsigned SlotW = (WordsPerRow > 1) ? $clog2(WordsPerRow) : 1;

  logic [15:0] h [32];
  always_comb begin
    for (int unsigned k = 0; k < 32; k++) h[k] = instr_i[16*k +: 16];
  end

  // ---------------------------------------------------------------- instruction fields
  logic [15:0] img_h_q, img_w_q, in_pitch_q, ncg_in_q, nciw_q, oy_cnt_q, out_w_q;
  logic [7:0]  kh_q, kw_q, sw_q, sh_q, pl_q, nb_q, jr_q;
  logic [LaneIdxWidth-1:0] kmod_q;
  logic [15:0] gstride_q, ng_q, pb0_q, out_pitch_q, ncg_out_q, pitch_sh_q, ncg_sw_q;
  logic [15:0] cw_stride_q, out_cw_stride_q, crest_q, wleft0_q;
  logic [AW-1:0] wb0_q;
  logic signed [7:0] zp_in_q;
  logic [BW:0] tbase_q;

  // ---------------------------------------------------------------- control state
  typedef enum logic [1:0] {GIdle, GSetup, GRun, GDrain} gstate_e;
  gstate_e state_q;
  // every pixel of the band loaded / computed
  logic ldone_q, cdone_q;

  // setup: lane offsets r*crest and group rest bases wr0 + g*PeOc*crest (adders only)
  logic [AW-1:0] lane_off_q [PeOc];
  logic [AW-1:0] grp_rest_q [MaxGroups];
  logic [15:0] su_q;
  logic [AW-1:0] su_acc_q, gr_acc_q;

  // ---------------------------------------------------------------- load walker
  logic        lact_q;                 // a load is under way
  logic        lhalf_q;
  logic [15:0] lox_q, loy_q, lj_q;
  logic [7:0]  lky_q, lkx_q;
  logic signed [AW-1:0] la_row_q, la_pix_q, la_trow_q, la_tap_q, la_cur_q;
  logic signed [CW-1:0] liy_row_q, liy_q, lix_pix_q, lix_q;
  // byte positions of the next base and rest bytes in the pixel's packed streams
  logic [PW-1:0] lbp_q, lrp_q;
  logic [1:0] rf_full_q;
  logic l_last_j, l_last_jx, l_last_kx, l_last_ky, l_last_tap, l_pad, l_step, l_pair;
  // pair: the next word of the tap holds rest channels only and sits in the same in-buffer row
  // (channel words adjacent, this one not the row's last): both in this cycle, the next one
  // whole into the rest stream right after this one's rest bytes
  if (Pair) begin : g_pair
    assign l_pair = (lj_q + 16'd1 < nciw_q) && (lj_q + 16'd1 >= 16'(nb_q)) && (cw_stride_q == 16'd1) &&
                    (la_cur_q[SlotW-1:0] != {SlotW{1'b1}});
  end else begin : g_no_pair
    assign l_pair = 1'b0;
  end
  assign l_last_j   = (lj_q == nciw_q - 16'd1);
  assign l_last_jx  = l_pair ? (lj_q + 16'd2 == nciw_q) : l_last_j;
  assign l_last_kx  = (lkx_q == kw_q - 8'd1);
  assign l_last_ky  = (lky_q == kh_q - 8'd1);
  assign l_last_tap = l_last_jx && l_last_kx && l_last_ky;
  assign l_pad = (liy_q < 0) || (liy_q >= $signed({2'b00, img_h_q})) ||
                 (lix_q < 0) || (lix_q >= $signed({2'b00, img_w_q}));
  assign l_step = lact_q;
  // bytes this word adds to each stream: base lanes 0..blen-1 of words below nb, rest lanes
  // rlo..L-1 of words from jr on (word jr starts at lane kmod)
  logic l_bj, l_rj;
  logic [NW-1:0] l_blen, l_rlen;
  logic [LaneIdxWidth-1:0] l_rlo;
  assign l_bj   = (lj_q < 16'(nb_q));
  assign l_rj   = (lj_q >= 16'(jr_q));
  assign l_blen = (lj_q == 16'(nb_q) - 16'd1 && kmod_q != '0) ? NW'(kmod_q) : NW'(L);
  assign l_rlo  = (lj_q == 16'(jr_q)) ? kmod_q : '0;
  assign l_rlen = NW'(L) - NW'(l_rlo);

  // the load's write side, one cycle behind its read
  logic ld_v_q, ld_pad_q, ld_base_q, ld_rest_q, ld_half_q, ld_last_q, ld_pair_q;
  logic [PW-1:0] ld_bpos_q, ld_rpos_q;
  logic [NW-1:0] ld_blen_q, ld_rlen_q;
  logic [LaneIdxWidth-1:0] ld_rlo_q;

  // ---------------------------------------------------------------- compute (issue) side
  typedef enum logic [1:0] {CWait, CBase, CRest} cstate_e;
  cstate_e cst_q;
  logic        chalf_q;
  logic [15:0] cg_q;                   // base: group
  logic [BW:0] cbt_q;                  // base: tap word within the group (runs to max(T_base, 2))
  logic [AW-1:0] cwg_q;                // base: weight word of the group's first tap
  logic [15:0] known_q;                // groups of this pixel whose gate bits are in
  logic [PeOc-1:0] gate_q [MaxGroups];
  logic [MaxGroups-1:0] any_q;
  // rest: current channel
  logic        ract_q;
  logic [GW-1:0] rg_q;
  logic [RW-1:0] rlane_q;
  logic [15:0] ri_q;
  logic [AW-1:0] rwa_q;
  // output pixel walker of the pixel being computed
  logic [15:0] cox_q, coy_q;
  logic [AW-1:0] co_row_q, co_pix_q;
  // pixels whose results are being emitted: per half, busy, and the output address
  logic [1:0] acc_busy_q;
  logic [AW-1:0] emit_addr_q [2];
  logic [2:0] emit_wait_q [2];
  logic [1:0] emit_pend_q;

  // pick: the lowest known group with a gated-on channel left, and its lowest such lane
  logic pick_v;
  logic [GW-1:0] pick_g;
  logic [RW-1:0] pick_lane;
  always_comb begin
    pick_v = 1'b0;
    pick_g = '0;
    for (int unsigned g = MaxGroups; g > 0; g--) begin
      if (any_q[g-1]) begin
        pick_v = 1'b1;
        pick_g = GW'(g - 1);
      end
    end
    pick_lane = '0;
    for (int unsigned r = PeOc; r > 0; r--) begin
      if (gate_q[pick_g][r-1]) pick_lane = RW'(r - 1);
    end
  end

  logic base_issue, base_valid, base_last, base_grp_last, rest_issue, rest_first, rest_last;
  logic pix_end, can_start, more_v, last_pix, start_next;
  logic [BW:0] tbase_eff;
  assign tbase_eff   = (tbase_q < (BW+1)'(2)) ? (BW+1)'(2) : tbase_q;
  assign base_issue  = (cst_q == CBase);
  assign base_valid  = base_issue && (cbt_q < tbase_q);
  assign base_grp_last = base_issue && (cbt_q == tbase_eff - (BW+1)'(1));
  assign base_last   = base_valid && (cbt_q == tbase_q - (BW+1)'(1));
  assign rest_issue  = (cst_q == CRest) && (ract_q || pick_v);
  assign rest_first  = (cst_q == CRest) && !ract_q && pick_v;
  assign rest_last   = rest_issue && ((rest_first ? 16'd0 : ri_q) == crest_q - 16'd1);
  // a gated-on channel left besides the one issuing now (picked this cycle, or already cleared)
  assign more_v      = ract_q ? pick_v
                              : ((any_q & ~(MaxGroups'(1) << pick_g)) != '0) ||
                                ((gate_q[pick_g] & ~(PeOc'(1) << pick_lane)) != '0);
  // the pixel ends with its last rest issue (or, with none left, as soon as every gate is known)
  assign pix_end     = (cst_q == CRest) && (known_q == ng_q) &&
                       ((!ract_q && !pick_v) || (rest_last && !more_v));
  assign last_pix    = (cox_q == out_w_q - 16'd1) && (coy_q == oy_cnt_q - 16'd1);
  // the next pixel's base pass follows without a bubble when it is loaded and its half is free
  assign start_next  = pix_end && !last_pix && (state_q == GRun) && rf_full_q[!chalf_q] &&
                       !acc_busy_q[!chalf_q];
  // a pixel starts once it is loaded and its accumulator half is no longer being emitted
  assign can_start   = (cst_q == CWait) && (state_q == GRun) && !cdone_q &&
                       rf_full_q[chalf_q] && !acc_busy_q[chalf_q];

  logic [RW-1:0] cur_lane;
  logic [GW-1:0] cur_g;
  logic [AW-1:0] cur_wa;
  logic [15:0]   cur_i;
  assign cur_lane = ract_q ? rlane_q : pick_lane;
  assign cur_g    = ract_q ? rg_q : pick_g;
  assign cur_wa   = ract_q ? rwa_q : grp_rest_q[pick_g] + lane_off_q[pick_lane];
  assign cur_i    = ract_q ? ri_q : 16'd0;

  // ---------------------------------------------------------------- receptive-field buffers
  logic [L*8-1:0] rfb_rdata;
  logic [PeOc*L*8-1:0] rfr_rdata;
  logic [L*8-1:0] ld_word, ld_word2;
  always_comb begin
    for (int unsigned c = 0; c < L; c++) begin
      ld_word[c*8 +: 8]  = ld_pad_q ? zp_in_q : in_word_i[c*8 +: 8];
      ld_word2[c*8 +: 8] = ld_pad_q ? zp_in_q : in_word2_i[c*8 +: 8];
    end
  end

  // RFB: packed base bytes. Bytes [pos, pos+blen) of the stream take lanes 0..blen-1 of the word,
  // rotated up by pos % L: lanes at or above pos % L go to word pos / L, the others to the next
  // word, which is in the other bank.
  // the paired word: the rest stream's next L bytes, from the end of this word's rest bytes
  logic [LaneIdxWidth-1:0] bf, rf, rf2;
  logic [PW-1:0] bwd, rwd, rpos2, rwd2;
  logic [L*8-1:0] brot, rrot, rrot2;
  logic [L-1:0] bval, bcur, rval, rcur, rcur2;
  always_comb begin
    rpos2 = ld_rpos_q + (ld_rest_q ? PW'(ld_rlen_q) : '0);
    bf  = (L > 1) ? LaneIdxWidth'(ld_bpos_q) : '0;
    rf  = (L > 1) ? LaneIdxWidth'(ld_rpos_q) : '0;
    rf2 = (L > 1) ? LaneIdxWidth'(rpos2) : '0;
    bwd = ld_bpos_q >> LgL;
    rwd = ld_rpos_q >> LgL;
    rwd2 = rpos2 >> LgL;
    for (int unsigned p = 0; p < L; p++) begin
      logic [LaneIdxWidth-1:0] ib, ir, sr, i2;
      ib = (L > 1) ? LaneIdxWidth'(p) - bf : '0;
      ir = (L > 1) ? LaneIdxWidth'(p) - rf : '0;
      sr = (L > 1) ? ir + ld_rlo_q : '0;
      i2 = (L > 1) ? LaneIdxWidth'(p) - rf2 : '0;
      brot[p*8 +: 8]  = ld_word[32'(ib)*8 +: 8];
      rrot[p*8 +: 8]  = ld_word[32'(sr)*8 +: 8];
      rrot2[p*8 +: 8] = ld_word2[32'(i2)*8 +: 8];
      bval[p] = (NW'(ib) < ld_blen_q);
      rval[p] = ld_rest_q && (NW'(ir) < ld_rlen_q);
      bcur[p] = (LaneIdxWidth'(p) >= bf) || (L == 1);
      rcur[p] = (LaneIdxWidth'(p) >= rf) || (L == 1);
      rcur2[p] = (LaneIdxWidth'(p) >= rf2) || (L == 1);
    end
  end
  logic [L-1:0] rfb_be [2];
  logic [BW-1:0] rfb_wa [2];
  logic [BW-1:0] rfb_ra;
  logic [L*8-1:0] rfb_rd [2];
  logic rfb_sel_q;
  assign rfb_ra = BW'((32'(chalf_q) << (BW - 1)) | (32'(cbt_q) >> 1));
  for (genvar e = 0; e < 2; e++) begin : g_rfb
    logic own;  // word pos / L is in this bank
    assign own = (bwd[0] == 1'(e));
    for (genvar p = 0; p < L; p++) begin : g_be
      assign rfb_be[e][p] = bval[p] && (bcur[p] == own);
    end
    assign rfb_wa[e] = BW'((32'(ld_half_q) << (BW - 1)) | ((own ? 32'(bwd) : 32'(bwd) + 32'd1) >> 1));
    gatec_ram #(.RowBytes(L), .Rows(RfWords), .ByteEnable(1'b1)) u_rfb (
      .clk_i, .we_i (ld_v_q && ld_base_q), .waddr_i (rfb_wa[e]), .wbe_i (rfb_be[e]),
      .wdata_i (brot), .re_i (base_valid), .raddr_i (rfb_ra), .rdata_o (rfb_rd[e])
    );
  end
  assign rfb_rdata = rfb_sel_q ? rfb_rd[1] : rfb_rd[0];

  // RFR: packed rest bytes, rest word w in row w / PeOc, slot w % PeOc; rows alternate banks, so
  // the words a write touches (two, three with a paired word: PeOc >= 2) are one row of one bank
  // or one row of each bank.
  logic [PW-1:0] rw1, rw21;
  logic [PW-LgP-1:0] rrow0;
  // parities of the other rows (their banks)
  logic rpar1, rpar20, rpar21;
  logic [RW-1:0] rslot0, rslot1, rslot20, rslot21;
  assign rw1    = rwd + PW'(1);
  assign rw21   = rwd2 + PW'(1);
  assign rrow0  = (PW-LgP)'(rwd >> LgP);
  assign rpar1  = 1'(rw1 >> LgP);
  assign rpar20 = 1'(rwd2 >> LgP);
  assign rpar21 = 1'(rw21 >> LgP);
  assign rslot0 = (PeOc > 1) ? RW'(rwd) : '0;
  assign rslot1 = (PeOc > 1) ? RW'(rw1) : '0;
  assign rslot20 = (PeOc > 1) ? RW'(rwd2) : '0;
  assign rslot21 = (PeOc > 1) ? RW'(rw21) : '0;
  localparam int unsigned RfrAW = LgRB + 1;
  logic [RfrAW-1:0] rfr_ra;
  logic [PeOc*L*8-1:0] rfr_rd [2];
  logic rfr_sel_q;
  assign rfr_ra = RfrAW'((32'(chalf_q) << LgRB) | (32'(cur_i) >> 1));
  for (genvar e = 0; e < 2; e++) begin : g_rfr
    logic own0, own1, own20, own21;
    logic [PeOc*L-1:0] be;
    logic [PeOc*L*8-1:0] wd;
    logic [RfrAW-1:0] wa;
    assign own0 = (rrow0[0] == 1'(e));
    assign own1 = (rpar1 == 1'(e));
    assign own20 = (rpar20 == 1'(e));
    assign own21 = (rpar21 == 1'(e));
    for (genvar q = 0; q < PeOc; q++) begin : g_slot
      for (genvar p = 0; p < L; p++) begin : g_be
        logic b1, b2;
        assign b1 = rval[p] && ((rcur[p] && own0 && rslot0 == RW'(q)) ||
                                (!rcur[p] && own1 && rslot1 == RW'(q)));
        assign b2 = ld_pair_q && ((rcur2[p] && own20 && rslot20 == RW'(q)) ||
                                  (!rcur2[p] && own21 && rslot21 == RW'(q)));
        assign be[q*L+p] = b1 || b2;
        assign wd[(q*L+p)*8 +: 8] = b2 ? rrot2[p*8 +: 8] : rrot[p*8 +: 8];
      end
    end
    // the bank's row among the (at most two, adjacent) rows the write touches
    assign wa = RfrAW'((32'(ld_half_q) << LgRB) | ((own0 ? 32'(rrow0) : 32'(rrow0) + 32'd1) >> 1));
    gatec_ram #(.RowBytes(PeOc * L), .Rows(2 * RBRows), .ByteEnable(1'b1)) u_rfr (
      .clk_i, .we_i (ld_v_q && (ld_rest_q || ld_pair_q)), .waddr_i (wa), .wbe_i (be),
      .wdata_i (wd), .re_i (rest_issue), .raddr_i (rfr_ra), .rdata_o (rfr_rd[e])
    );
  end
  assign rfr_rdata = rfr_sel_q ? rfr_rd[1] : rfr_rd[0];
  always_ff @(posedge clk_i) begin
    if (base_valid) rfb_sel_q <= cbt_q[0];
    if (rest_issue) rfr_sel_q <= cur_i[0];
  end

  // ---------------------------------------------------------------- side band: S1, S2, S3
  logic v1_q, v2_q, v3_q, m1_q, m2_q, m3_q, f1_q, f2_q, f3_q, l1_q, l2_q, l3_q, hf1_q, hf2_q, hf3_q;
  logic [GW-1:0] g1_q, g2_q, g3_q;
  logic [RW-1:0] r1_q, r2_q, r3_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v1_q <= 1'b0; v2_q <= 1'b0; v3_q <= 1'b0;
    end else begin
      v1_q <= base_valid || rest_issue;
      v2_q <= v1_q;
      v3_q <= v2_q;
    end
  end
  always_ff @(posedge clk_i) begin
    // m: 1 = rest (reduction mode); f: first of a group / channel; l: last
    m1_q  <= rest_issue;
    f1_q  <= rest_issue ? rest_first : (cbt_q == '0);
    l1_q  <= rest_issue ? rest_last : base_last;
    g1_q  <= rest_issue ? cur_g : GW'(cg_q);
    r1_q  <= cur_lane;
    hf1_q <= chalf_q;
    m2_q <= m1_q; f2_q <= f1_q; l2_q <= l1_q; g2_q <= g1_q; r2_q <= r1_q; hf2_q <= hf1_q;
    m3_q <= m2_q; f3_q <= f2_q; l3_q <= l2_q; g3_q <= g2_q; r3_q <= r2_q; hf3_q <= hf2_q;
  end

  // per-row activations: the base word broadcast, or row r's own rest word
  always_comb begin
    for (int unsigned r = 0; r < PeOc; r++) begin
      for (int unsigned c = 0; c < L; c++) begin
        pe_x_o[(r*L+c)*9 +: 9] = m1_q ? 9'($signed(rfr_rdata[(r*L+c)*8 +: 8])) - 9'($signed(zp_in_q))
                                      : 9'($signed(rfb_rdata[c*8 +: 8])) - 9'($signed(zp_in_q));
      end
    end
  end
  assign pe_valid_o = v1_q;

  // ---------------------------------------------------------------- accumulate, gate, store
  logic [PeOc*32-1:0] bacc_q, bacc_next;
  logic [31:0] racc_q, racc_next, row_total;
  always_comb begin
    row_total = '0;
    for (int unsigned r = 0; r < PeOc; r++) begin
      bacc_next[r*32 +: 32] = (f3_q ? 32'd0 : bacc_q[r*32 +: 32]) + pe_sum_i[r*32 +: 32];
      row_total = row_total + pe_sum_i[r*32 +: 32];
    end
    racc_next = (f3_q ? 32'd0 : racc_q) + row_total;
  end

  // threshold row read the cycle after a group's last tap, parameter row the cycle after that
  logic pr1_q, pr2_q;
  logic [GW-1:0] prg1_q, prg2_q;
  logic [PeOc*64-1:0] thr_q;
  assign p_re_o   = pr1_q || pr2_q;
  assign p_addr_o = pr1_q ? PAddrWidth'(pb0_q + ng_q + 16'(prg1_q)) : PAddrWidth'(pb0_q + 16'(prg2_q));

  logic bdone, rdone;
  assign bdone = v3_q && !m3_q && l3_q;
  assign rdone = v3_q && m3_q && l3_q;
  logic [PeOc-1:0] on_bits;
  logic [PeOc*EW-1:0] acc_wdata;
  always_comb begin
    for (int unsigned r = 0; r < PeOc; r++) begin
      logic signed [31:0] s, t;
      s = $signed(bacc_next[r*32 +: 32]);
      t = $signed(thr_q[r*64 +: 32]);
      on_bits[r] = thr_q[r*64 + 32] ? (s < t) : (s > t);
      acc_wdata[r*EW +: EW] = {on_bits[r], p_row_i[r*64 + 48 +: 6], p_row_i[r*64 + 32 +: 15],
                               bacc_next[r*32 +: 32] + p_row_i[r*64 +: 32]};
    end
  end

  logic acc_re;
  logic [GW-1:0] emit_g_q;
  logic emit_half_q;
  logic [PeOc*EW-1:0] acc_rdata;
  logic [PeOc*32-1:0] rest_rdata;
  // accumulator RAM: per group and half, each lane's base sum + bias, multiplier, shift, gate
  logic [PeOc*EW-1:0] acc_mem_q [2 * MaxGroups];
  always_ff @(posedge clk_i) begin
    if (bdone) acc_mem_q[{hf3_q, g3_q}] <= acc_wdata;
    if (acc_re) acc_rdata <= acc_mem_q[{emit_half_q, emit_g_q}];
  end
  // rest sums: one memory per lane, written one channel at a time
  for (genvar r = 0; r < PeOc; r++) begin : g_rest
    logic [31:0] rest_mem_q [2 * MaxGroups];
    always_ff @(posedge clk_i) begin
      if (rdone && r3_q == RW'(r)) rest_mem_q[{hf3_q, g3_q}] <= racc_next;
      if (acc_re) rest_rdata[r*32 +: 32] <= rest_mem_q[{emit_half_q, emit_g_q}];
    end
  end

  always_ff @(posedge clk_i) begin
    if (v3_q && !m3_q) bacc_q <= bacc_next;
    if (v3_q && m3_q) racc_q <= racc_next;
    if (pr2_q) thr_q <= p_row_i;
  end

  // ---------------------------------------------------------------- emission
  logic emit_act_q, er_v_q;
  logic [15:0] emit_gi_q;
  logic [AW-1:0] emit_goff_q;
  logic [LaneIdxWidth-1:0] emit_lane_q, er_lane_q;
  logic [15:0] emit_wleft_q;
  logic [WordCntWidth-1:0] er_words_q;
  logic [OutAddrWidth-1:0] er_addr_q;
  logic [GapW-1:0] emit_gap_q;
  logic emit_start, emit_sel, emit_fire;
  // the older pending pixel goes first: halves alternate, so it is the one not computing next
  assign emit_sel   = (emit_pend_q[0] && emit_pend_q[1]) ? chalf_q : emit_pend_q[1];
  assign emit_start = !emit_act_q && emit_pend_q[emit_sel] && (emit_wait_q[emit_sel] == '0);
  assign emit_fire  = emit_act_q && (emit_gap_q == '0);
  assign acc_re     = emit_fire;

  logic res_valid_q;
  logic [PeOc*32-1:0] res_acc_q;
  logic [PeOc*15-1:0] res_mult_q;
  logic [PeOc*6-1:0]  res_shift_q;
  logic [OutAddrWidth-1:0] res_addr_q;
  logic [WordCntWidth-1:0] res_words_q;
  logic [LaneIdxWidth-1:0] res_lane_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      res_valid_q <= 1'b0;
      er_v_q      <= 1'b0;
    end else begin
      er_v_q      <= emit_fire;
      res_valid_q <= er_v_q;
    end
  end
  always_ff @(posedge clk_i) begin
    if (emit_fire) begin
      er_addr_q  <= OutAddrWidth'(emit_addr_q[emit_half_q] + emit_goff_q);
      er_lane_q  <= emit_lane_q;
      er_words_q <= (PeOc > L) ? ((emit_wleft_q < 16'(WordsPerPixel)) ? WordCntWidth'(emit_wleft_q)
                                                                       : WordCntWidth'(WordsPerPixel))
                               : WordCntWidth'(1);
    end
    if (er_v_q) begin
      for (int unsigned r = 0; r < PeOc; r++) begin
        res_acc_q[r*32 +: 32] <= acc_rdata[r*EW +: 32] +
                                (acc_rdata[r*EW + 53] ? rest_rdata[r*32 +: 32] : 32'd0);
        res_mult_q[r*15 +: 15] <= acc_rdata[r*EW + 32 +: 15];
        res_shift_q[r*6 +: 6]  <= acc_rdata[r*EW + 47 +: 6];
      end
      res_addr_q  <= er_addr_q;
      res_words_q <= er_words_q;
      res_lane_q  <= er_lane_q;
    end
  end
  assign res_valid_o  = res_valid_q;
  assign res_acc_o    = res_acc_q;
  assign res_mult_o   = res_mult_q;
  assign res_shift_o  = res_shift_q;
  assign res_addr_o   = res_addr_q;
  assign res_words_o  = res_words_q;
  assign res_lane_o   = res_lane_q;
  assign res_stride_o = OutAddrWidth'(out_cw_stride_q);

  // ---------------------------------------------------------------- reads
  assign in_re_o   = l_step && !l_pad;
  assign in_addr_o = InAddrWidth'(la_cur_q);
  assign w_re_o    = base_valid || rest_issue;
  assign w_addr_o  = rest_issue ? WAddrWidth'(cur_wa + AW'(cur_i)) : WAddrWidth'(cwg_q + AW'(cbt_q));
  assign gate_on_o = rest_first;

  logic all_done;
  assign all_done = cdone_q && (cst_q == CWait) && !emit_act_q && (emit_pend_q == '0) &&
                    !v1_q && !v2_q && !v3_q && !er_v_q && !res_valid_q && !wr_busy_i;
  assign busy_o = (state_q != GIdle);

  // ---------------------------------------------------------------- sequencing
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= GIdle;
      cst_q <= CWait;
      lact_q <= 1'b0;
      ld_v_q <= 1'b0;
      ld_pair_q <= 1'b0;
      rf_full_q <= '0;
      acc_busy_q <= '0;
      emit_pend_q <= '0;
      emit_act_q <= 1'b0;
      emit_gap_q <= '0;
      pr1_q <= 1'b0;
      pr2_q <= 1'b0;
      ract_q <= 1'b0;
      any_q <= '0;
      cdone_q <= 1'b0;
      ldone_q <= 1'b0;
    end else begin
      pr1_q  <= base_last;
      prg1_q <= GW'(cg_q);
      pr2_q  <= pr1_q;
      prg2_q <= prg1_q;

      // ---- load side: write one cycle after the read
      ld_v_q     <= l_step;
      ld_pad_q   <= l_pad;
      ld_base_q  <= l_bj;
      ld_rest_q  <= l_rj;
      ld_half_q  <= lhalf_q;
      ld_bpos_q  <= lbp_q;
      ld_rpos_q  <= lrp_q;
      ld_blen_q  <= l_blen;
      ld_rlo_q   <= l_rlo;
      ld_rlen_q  <= l_rlen;
      ld_last_q  <= l_last_tap;
      ld_pair_q  <= l_step && l_pair;
      if (ld_v_q && ld_last_q) rf_full_q[ld_half_q] <= 1'b1;

      case (state_q)
        GIdle: if (start_i) begin
          img_h_q     <= h[4];
          img_w_q     <= h[5];
          in_pitch_q  <= h[6];
          ncg_in_q    <= h[7];
          crest_q     <= h[8];
          nciw_q      <= h[9];
          oy_cnt_q    <= h[11];
          out_w_q     <= h[12];
          {kw_q, kh_q} <= h[13];
          {sw_q, sh_q} <= h[14];
          pl_q        <= h[15][15:8];
          wb0_q       <= AW'(h[16]);
          gstride_q   <= h[17];
          ng_q        <= h[18];
          pb0_q       <= h[19];
          out_pitch_q <= h[22];
          ncg_out_q   <= h[23];
          zp_in_q     <= h[24][7:0];
          zp_out_o    <= h[25][7:0];
          lo_o        <= h[26][7:0];
          hi_o        <= h[26][15:8];
          wleft0_q    <= h[27];
          pitch_sh_q  <= h[28];
          ncg_sw_q    <= h[29];
          cw_stride_q <= h[30];
          out_cw_stride_q <= h[31];
          nb_q        <= h[0][15:8];
          jr_q        <= h[0][15:8] - 8'(h[24][13]);
          kmod_q      <= LaneIdxWidth'(h[24][12:8]);
          tbase_q     <= (BW+1)'(h[17]);
          su_q        <= '0;
          su_acc_q    <= '0;
          gr_acc_q    <= AW'(h[20]);
          cdone_q     <= 1'b0;
          ldone_q     <= 1'b0;
          chalf_q     <= 1'b0;
          lhalf_q     <= 1'b0;
          rf_full_q   <= '0;
          acc_busy_q  <= '0;
          cst_q       <= CWait;
          // the load walker starts at the first pixel's first tap
          lact_q    <= 1'b1;
          lox_q <= '0; loy_q <= '0; lj_q <= '0; lky_q <= '0; lkx_q <= '0;
          lbp_q <= '0; lrp_q <= '0;
          la_row_q  <= AW'($signed({h[3], h[2]}));
          la_pix_q  <= AW'($signed({h[3], h[2]}));
          la_trow_q <= AW'($signed({h[3], h[2]}));
          la_tap_q  <= AW'($signed({h[3], h[2]}));
          la_cur_q  <= AW'($signed({h[3], h[2]}));
          liy_row_q <= CW'($signed(h[10]));
          liy_q     <= CW'($signed(h[10]));
          lix_pix_q <= -(CW'(h[15][15:8]));
          lix_q     <= -(CW'(h[15][15:8]));
          cox_q <= '0; coy_q <= '0;
          co_row_q <= AW'(h[21]);
          co_pix_q <= AW'(h[21]);
          state_q <= GSetup;
        end
        // lane offsets, then group rest bases; the first pixel loads meanwhile
        GSetup: begin
          su_q <= su_q + 16'd1;
          if (su_q < 16'(PeOc)) begin
            lane_off_q[RW'(su_q)] <= su_acc_q;
            su_acc_q <= su_acc_q + AW'(crest_q);
          end else begin
            grp_rest_q[GW'(su_q - 16'(PeOc))] <= gr_acc_q;
            gr_acc_q <= gr_acc_q + su_acc_q;
          end
          if (su_q + 16'd1 == 16'(PeOc) + ng_q) state_q <= GRun;
        end
        GRun: if (all_done) state_q <= GDrain;
        GDrain: state_q <= GIdle;
        default: state_q <= GIdle;
      endcase

      // ---- load walker: one word per cycle over the pixel's taps (ky, kx, channel word)
      if (state_q != GIdle && !lact_q && !ldone_q && !rf_full_q[lhalf_q] &&
          !(ld_v_q && ld_half_q == lhalf_q)) begin
        lact_q <= 1'b1;
      end
      if (l_step) begin
        if (l_bj) lbp_q <= lbp_q + PW'(l_blen);
        if (l_rj || l_pair) lrp_q <= lrp_q + (l_rj ? PW'(l_rlen) : '0) + (l_pair ? PW'(L) : '0);
        if (!l_last_jx) begin
          lj_q     <= lj_q + (l_pair ? 16'd2 : 16'd1);
          la_cur_q <= la_cur_q + AW'(cw_stride_q) + (l_pair ? AW'(cw_stride_q) : '0);
        end else if (!l_last_kx) begin
          lj_q     <= '0;
          lkx_q    <= lkx_q + 8'd1;
          la_tap_q <= la_tap_q + AW'(ncg_in_q);
          la_cur_q <= la_tap_q + AW'(ncg_in_q);
          lix_q    <= lix_q + CW'(1);
        end else if (!l_last_ky) begin
          lj_q      <= '0;
          lkx_q     <= '0;
          lky_q     <= lky_q + 8'd1;
          la_trow_q <= la_trow_q + AW'(in_pitch_q);
          la_tap_q  <= la_trow_q + AW'(in_pitch_q);
          la_cur_q  <= la_trow_q + AW'(in_pitch_q);
          liy_q     <= liy_q + CW'(1);
          lix_q     <= lix_pix_q;
        end else begin
          // the pixel's last word: on to the next pixel, into the other half
          lj_q <= '0; lkx_q <= '0; lky_q <= '0;
          lbp_q <= '0; lrp_q <= '0;
          lact_q  <= 1'b0;
          lhalf_q <= !lhalf_q;
          if (lox_q == out_w_q - 16'd1 && loy_q == oy_cnt_q - 16'd1) ldone_q <= 1'b1;
          if (lox_q != out_w_q - 16'd1) begin
            lox_q     <= lox_q + 16'd1;
            la_pix_q  <= la_pix_q + AW'(ncg_sw_q);
            la_trow_q <= la_pix_q + AW'(ncg_sw_q);
            la_tap_q  <= la_pix_q + AW'(ncg_sw_q);
            la_cur_q  <= la_pix_q + AW'(ncg_sw_q);
            lix_pix_q <= lix_pix_q + CW'(sw_q);
            lix_q     <= lix_pix_q + CW'(sw_q);
            liy_q     <= liy_row_q;
          end else begin
            lox_q     <= '0;
            loy_q     <= loy_q + 16'd1;
            la_row_q  <= la_row_q + AW'(pitch_sh_q);
            la_pix_q  <= la_row_q + AW'(pitch_sh_q);
            la_trow_q <= la_row_q + AW'(pitch_sh_q);
            la_tap_q  <= la_row_q + AW'(pitch_sh_q);
            la_cur_q  <= la_row_q + AW'(pitch_sh_q);
            liy_row_q <= liy_row_q + CW'(sh_q);
            liy_q     <= liy_row_q + CW'(sh_q);
            lix_pix_q <= -(CW'(pl_q));
            lix_q     <= -(CW'(pl_q));
          end
        end
      end

      // ---- compute side
      case (cst_q)
        CWait: if (can_start) begin
          cst_q   <= CBase;
          cg_q    <= '0;
          cbt_q   <= '0;
          cwg_q   <= wb0_q;
          known_q <= '0;
          acc_busy_q[chalf_q] <= 1'b1;
        end
        CBase: begin
          if (base_grp_last) begin
            cbt_q <= '0;
            cg_q  <= cg_q + 16'd1;
            cwg_q <= cwg_q + AW'(gstride_q);
            if (cg_q == ng_q - 16'd1) cst_q <= CRest;
          end else begin
            cbt_q <= cbt_q + (BW+1)'(1);
          end
        end
        CRest: begin
          if (rest_issue) begin
            if (rest_last) begin
              ract_q <= 1'b0;
            end else begin
              ract_q <= 1'b1;
              ri_q   <= cur_i + 16'd1;
            end
            if (rest_first) begin
              rg_q    <= pick_g;
              rlane_q <= pick_lane;
              rwa_q   <= cur_wa;
            end
          end
          if (pix_end) begin
            cst_q <= start_next ? CBase : CWait;
            if (start_next) begin
              cg_q    <= '0;
              cbt_q   <= '0;
              cwg_q   <= wb0_q;
              known_q <= '0;
              acc_busy_q[!chalf_q] <= 1'b1;
            end
            rf_full_q[chalf_q] <= 1'b0;
            emit_pend_q[chalf_q] <= 1'b1;
            emit_wait_q[chalf_q] <= 3'd3;
            emit_addr_q[chalf_q] <= co_pix_q;
            chalf_q <= !chalf_q;
            if (last_pix) cdone_q <= 1'b1;
            if (cox_q != out_w_q - 16'd1) begin
              cox_q    <= cox_q + 16'd1;
              co_pix_q <= co_pix_q + AW'(ncg_out_q);
            end else begin
              cox_q    <= '0;
              coy_q    <= coy_q + 16'd1;
              co_row_q <= co_row_q + AW'(out_pitch_q);
              co_pix_q <= co_row_q + AW'(out_pitch_q);
            end
          end
        end
        default: cst_q <= CWait;
      endcase

      // gate bits: set at a group's base completion, cleared as channels are picked
      if (bdone) begin
        gate_q[g3_q] <= on_bits;
        any_q[g3_q]  <= (on_bits != '0);
        known_q      <= known_q + 16'd1;
      end
      if (rest_first) begin
        gate_q[pick_g][pick_lane] <= 1'b0;
        if ((gate_q[pick_g] & ~(PeOc'(1) << pick_lane)) == '0) any_q[pick_g] <= 1'b0;
      end

      // ---- emission: one group per WordsPerPixel cycles
      for (int unsigned k = 0; k < 2; k++) begin
        if (emit_wait_q[k] != '0 && !(pix_end && chalf_q == 1'(k))) emit_wait_q[k] <= emit_wait_q[k] - 3'd1;
      end
      if (emit_start) begin
        emit_act_q   <= 1'b1;
        emit_half_q  <= emit_sel;
        emit_g_q     <= '0;
        emit_gi_q    <= '0;
        emit_goff_q  <= '0;
        emit_lane_q  <= '0;
        emit_wleft_q <= wleft0_q;
        emit_pend_q[emit_sel] <= 1'b0;
      end
      if (emit_act_q) begin
        if (emit_fire) begin
          emit_g_q   <= emit_g_q + GW'(1);
          emit_gi_q  <= emit_gi_q + 16'd1;
          if (PeOc >= L) begin
            emit_goff_q  <= emit_goff_q + (AW'(out_cw_stride_q) << $clog2(WordsPerPixel));
            emit_wleft_q <= emit_wleft_q - 16'(WordsPerPixel);
          end else begin
            emit_lane_q <= emit_lane_q + LaneIdxWidth'(PeOc);
            if (32'(emit_lane_q) + PeOc >= L) emit_goff_q <= emit_goff_q + AW'(out_cw_stride_q);
          end
          if (emit_gi_q == ng_q - 16'd1) begin
            emit_act_q <= 1'b0;
            acc_busy_q[emit_half_q] <= 1'b0;
          end
        end
      end
      // results at least WordsPerPixel cycles apart, also across pixels
      if (emit_fire) emit_gap_q <= GapW'(WordsPerPixel - 1);
      else if (emit_gap_q != '0) emit_gap_q <= emit_gap_q - GapW'(1);
    end
  end
endmodule
